#!/bin/sh
# Writes `az` and `aws` wrapper scripts into OUT_DIR with the offline
# environment built in (commands run over SSH inherit nothing from the test):
#   wrappers.sh OUT_DIR CACHE_DIR AZURE_HTTP_PORT CA_PEM MOTO_PORT
# CACHE_DIR is what tests/cloud/setup.sh printed; AZURE_HTTP_PORT and CA_PEM
# come from tests/cloud/fake_azure.py (ports.json, ca.pem); MOTO_PORT is a
# moto_server on 127.0.0.1.
set -eu
out=$1 cache=$2 azport=$3 ca=$4 motoport=$5
mkdir -p "$out"
cat >"$out/az" <<AZ
#!/bin/sh
# Azure CLI against the fake managed-identity endpoint (tests/cloud/fake_azure.py).
export AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:$azport
export ARM_CLOUD_METADATA_URL='http://127.0.0.1:$azport/metadata/endpoints?api-version=2022-09-01'
export REQUESTS_CA_BUNDLE='$ca'
export AZURE_CORE_COLLECT_TELEMETRY=false
export AZURE_CORE_SURVEY_MESSAGE=false
unset IDENTITY_ENDPOINT IDENTITY_HEADER MSI_ENDPOINT MSI_SECRET
mkdir -p "\$HOME/.azure"
# No update check on the first command, and no endpoints cached from an
# earlier fake on another port.
[ -f "\$HOME/.azure/versionCheck.json" ] ||
  printf '{"versions": {"azure-cli": {"local": "2.91.0"}, "core": {"local": "2.91.0"}, "telemetry": {"local": "1.1.0"}}, "update_time": "%s"}' \\
    "\$(date -u '+%Y-%m-%d %H:%M:%S.000000')" >"\$HOME/.azure/versionCheck.json"
rm -f "\$HOME/.azure/cloudEndpoints.json"
exec '$cache/az/bin/az' "\$@"
AZ
cat >"$out/aws" <<AWS
#!/bin/sh
# AWS CLI against moto_server; never the instance metadata service.
export AWS_ENDPOINT_URL=http://127.0.0.1:$motoport
export AWS_EC2_METADATA_DISABLED=true
export AWS_PAGER=
exec '$cache/aws/bin/aws' "\$@"
AWS
chmod 755 "$out/az" "$out/aws"
