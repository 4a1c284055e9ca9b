"""A client of the S3 test server that is not podfeed's: boto3 (installed with moto).

    bucket.py ENDPOINT create BUCKET          make a versioned bucket
    bucket.py ENDPOINT versions BUCKET KEY    how many times KEY was written
    bucket.py ENDPOINT put BUCKET KEY FILE    write KEY as someone else would
    bucket.py ENDPOINT get BUCKET KEY OUT     KEY's bytes (decoded) to OUT; its headers as JSON
    bucket.py ENDPOINT keys BUCKET            every key, one a line
"""
import gzip
import json
import sys

import boto3

endpoint, command, bucket, *rest = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
if command == "create":
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
elif command == "versions":
    (key,) = rest
    listed = s3.list_object_versions(Bucket=bucket, Prefix=key)
    print(sum(1 for v in listed.get("Versions", []) if v["Key"] == key))
elif command == "put":
    key, path = rest
    s3.put_object(Bucket=bucket, Key=key, Body=open(path, "rb").read())
elif command == "get":
    key, out = rest
    got = s3.get_object(Bucket=bucket, Key=key)
    body = got["Body"].read()
    if got.get("ContentEncoding") == "gzip":
        body = gzip.decompress(body)
    open(out, "wb").write(body)
    print(json.dumps({"type": got.get("ContentType"), "cache": got.get("CacheControl"),
                      "encoding": got.get("ContentEncoding")}))
elif command == "keys":
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        print(item["Key"])
