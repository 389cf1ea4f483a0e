"""Seed a moto_server for the OIDC flow: a bucket, the IAM role the VM
assumes, and the SSM parameter /azure/oidc/role-arn naming it.

Usage: python seed_moto.py ENDPOINT_URL BUCKET   (prints the role ARN)
Run with the interpreter of the venv tests/cloud/setup.sh made (boto3 is a
moto dependency). Static throwaway keys: moto checks none.
"""

import json
import sys

import boto3

endpoint, bucket = sys.argv[1], sys.argv[2]
kw = dict(
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
)
boto3.client("s3", **kw).create_bucket(Bucket=bucket)
trust = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/sts.windows.net/tenant/"},
            "Action": "sts:AssumeRoleWithWebIdentity",
        }
    ],
}
role = boto3.client("iam", **kw).create_role(
    RoleName="azure-vm-oidc", AssumeRolePolicyDocument=json.dumps(trust)
)["Role"]["Arn"]
boto3.client("ssm", **kw).put_parameter(Name="/azure/oidc/role-arn", Value=role, Type="String")
print(role)
