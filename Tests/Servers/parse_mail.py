"""Parses each .eml file named on the command line with Python's email package (an independent
MIME parser) and prints what Herald's tests check, as one JSON array."""

import json
import sys
from email import policy
from email.parser import BytesParser

out = []
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        message = BytesParser(policy=policy.default).parse(f)
    parts = [p for p in message.walk() if not p.is_multipart()]
    out.append({
        "subject": str(message["Subject"]),
        "from": str(message["From"]),
        "to": str(message["To"]),
        "message_id": str(message["Message-ID"]),
        "list_unsubscribe": message["List-Unsubscribe"] and str(message["List-Unsubscribe"]),
        "list_unsubscribe_post": message["List-Unsubscribe-Post"] and str(message["List-Unsubscribe-Post"]),
        "content_type": message.get_content_type(),
        "parts": [p.get_content_type() for p in parts],
        "bodies": [p.get_content() for p in parts],
        "defects": len(message.defects) + sum(len(p.defects) for p in parts),
    })
print(json.dumps(out))
