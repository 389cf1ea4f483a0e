"""pyinfra equivalent of mix20.yml: 5 rounds of directory / put / command / shell."""
from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

home = host.data.bench_home
for i in range(1, 6):
    d = f"{home}/mix/d{i}"
    files.directory(name=f"dir {i}", path=d, mode="755")
    files.put(
        name=f"copy {i}",
        src=StringIO(f"# round {i} on {host.name}\nkey{i} = value-{host.data.ssh_user}\n"),
        dest=f"{d}/f.conf",
        mode="644",
    )
    server.shell(name=f"command {i}", commands=[f"cat {d}/f.conf"])
    server.shell(name=f"shell {i}", commands=[f"test -e {d}/count || grep -c key{i} {d}/f.conf > {d}/count"])
