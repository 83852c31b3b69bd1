"""Create the Asherah DynamoDB metastore table (docs/compatibility.md#dynamodb-metastore) if it does not exist.

    python3 scripts/dynamodb-create-table.py [PORT_OR_ENDPOINT [REGION [TABLE]]]

Hash key `Id` (S), range key `Created` (N), on-demand billing. With a port or an http(s) URL it talks to that
endpoint (the lab's moto emulator); with none, to AWS through boto3's usual credential and region chain. The Rust
equivalent is `DynamoDbMetastore::create_table`. Needs boto3 (the lab's moto virtualenv has it).
"""

import sys

import boto3

args = sys.argv[1:]
endpoint = None
if args and args[0]:
    endpoint = args[0] if "://" in args[0] else f"http://127.0.0.1:{args[0]}"
region = args[1] if len(args) > 1 else None
table = args[2] if len(args) > 2 else "EncryptionKey"

client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
try:
    client.create_table(
        TableName=table,
        AttributeDefinitions=[
            {"AttributeName": "Id", "AttributeType": "S"},
            {"AttributeName": "Created", "AttributeType": "N"},
        ],
        KeySchema=[
            {"AttributeName": "Id", "KeyType": "HASH"},
            {"AttributeName": "Created", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=table)
except client.exceptions.ResourceInUseException:
    pass  # already there
