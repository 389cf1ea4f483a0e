"""pyinfra equivalent of oidc6.yml (6 operations per host).

pyinfra gathers facts before it executes operations, so the token command runs
as a fact (`Command`) at prepare time - the pyinfra idiom for "register"."""
import json
from io import StringIO

from pyinfra import host
from pyinfra.facts.server import Command
from pyinfra.operations import files, server

home = host.data.bench_home
name = host.name
oidc_dir = f"{home}/oidc"
issuer = f"https://login.example.invalid/{name}/v2.0"

# 1. shell with creates: pyinfra has no `creates`; the test runs in the same command.
server.shell(
    name="Log in (stand-in for az login)",
    commands=[
        f"test -e {home}/login.json || "
        f"echo '{{\"tenant\": \"t-{name}\", \"user\": \"{host.data.ssh_user}\"}}' > {home}/login.json"
    ],
)

# 2. command, output kept (no_log has no pyinfra equivalent; facts are not printed).
raw = host.get_fact(
    Command,
    command="echo '{\"accessToken\": \"tok-%s-0123456789abcdef\", "
    "\"expiresOn\": \"2030-01-01 00:00:00.000000\", \"tokenType\": \"Bearer\"}'" % name,
)
token = json.loads(raw)["accessToken"]

# 3. copy of the templated value, mode 0400
files.put(name="Store the token", src=StringIO(token), dest=f"{home}/.oidc_token", mode="400")

# 4. directory 0700
files.directory(name="Config directory", path=oidc_dir, mode="700")

# 5. multi-line templated config
config = f"""[oidc]
issuer = {issuer}
client_id = bench-{name}
user = {host.data.ssh_user}
token_file = {home}/.oidc_token
scopes = openid profile email
"""
files.put(name="Write the client config", src=StringIO(config), dest=f"{oidc_dir}/config.ini", mode="600")

# 6. verification command
server.shell(name="Verify (stand-in for kubectl version)", commands=[f"cat {oidc_dir}/config.ini"])
