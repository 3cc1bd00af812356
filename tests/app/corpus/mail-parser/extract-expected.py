#!/usr/bin/env python3
# Distils mail-parser's expected parses (resources/eml/*/NNN.json of
# https://github.com/stalwartlabs/mail-parser) into expected.ini, the
# GKeyFile that test-message-content reads: for every message the subject,
# the first From, the text/plain body and the named attachments with their
# decoded sizes -- only what is comparable with Tern's view of a message.
#
# Usage: extract-expected.py RESOURCES_DIR > expected.ini
#
# SPDX-License-Identifier: GPL-3.0-or-later
import glob
import json
import os
import sys


def comparable(value):
    # U+FFFD: mail-parser could not decode raw 8-bit bytes that GMime reads
    # in a fallback charset; there is no right answer to compare with.
    return value is not None and '\ufffd' not in value


def escape(value):
    out = value.replace('\\', '\\\\').replace('\n', '\\n').replace('\t', '\\t').replace('\r', '\\r')
    if out.startswith(' '):
        out = '\\s' + out[1:]
    return out


def header(part, name):
    for h in part['headers']:
        if h['name'] == name:
            return h['value']
    return None


def params(part, name):
    value = header(part, name)
    if not value or 'ContentType' not in value:
        return {}
    attributes = value['ContentType'].get('attributes') or []
    return {a['name'].lower(): a['value'] for a in attributes}


def content_type(part):
    value = header(part, 'content_type')
    if not value or 'ContentType' not in value:
        return None
    ct = value['ContentType']
    return '%s/%s' % (ct['c_type'], ct['c_subtype'])


def body_kind(part):
    body = part['body']
    return next(iter(body)) if isinstance(body, dict) else body


def main():
    root = sys.argv[1]
    for path in sorted(glob.glob(os.path.join(root, 'eml', '*', '[0-9][0-9][0-9].json'))):
        name = os.path.relpath(path, os.path.join(root, 'eml'))[:-len('.json')]
        # NNN.json is the parse of the message with LF line ends, NNN.crlf.json
        # with CRLF: take the one that matches the .eml as it is stored.
        with open(path[:-len('.json')] + '.eml', 'rb') as f:
            if b'\r\n' in f.read():
                path = path[:-len('.json')] + '.crlf.json'
        with open(path, encoding='utf-8') as f:
            parsed = json.load(f)
        top = parsed['parts'][0]
        print('[%s]' % name)
        subject = header(top, 'subject')
        if subject and 'Text' in subject and comparable(subject['Text']):
            print('subject=%s' % escape(subject['Text']))
        sender = header(top, 'from')
        if sender and 'Address' in sender and 'List' in sender['Address'] and sender['Address']['List']:
            first = sender['Address']['List'][0]
        else:
            first = {}
        # Without an address ("From: Whomever") the header is no mailbox,
        # and a name is a guess either way.
        if first.get('address'):
            if first.get('name') and comparable(first['name']):
                print('from_name=%s' % escape(first['name']))
            print('from_address=%s' % escape(first['address']))
        # A text body is comparable when it is one text/plain part: for
        # HTML-only mail mail-parser converts the HTML to text, Tern does not.
        text_body = parsed['text_body']
        if len(text_body) == 1:
            part = parsed['parts'][text_body[0]]
            if body_kind(part) == 'Text' and comparable(part['body']['Text']) and content_type(part) in (None, 'text/plain', 'text/None'):
                print('text=%s' % escape(part['body']['Text']))
                # mail-parser keeps format=flowed lines as sent.
                type_params = params(part, 'content_type')
                if type_params.get('format', '').lower() == 'flowed':
                    print('text_flowed=true')
                    print('text_delsp=%s' % str(type_params.get('delsp', '').lower() == 'yes').lower())
        n = 0
        for index in parsed['attachments']:
            part = parsed['parts'][index]
            kind = body_kind(part)
            filename = params(part, 'content_disposition').get('filename') or params(part, 'content_type').get('name')
            if not comparable(filename) or kind not in ('Binary', 'InlineBinary'):
                continue
            print('attachment%d_name=%s' % (n, escape(filename)))
            # mail-parser leaves x-uuencode and other non-standard encodings
            # undone; GMime decodes them, so only the name compares.
            encoding = header(part, 'content_transfer_encoding')
            encoding = encoding['Text'].lower() if encoding and 'Text' in encoding else '7bit'
            if encoding in ('7bit', '8bit', 'binary', 'base64', 'quoted-printable'):
                print('attachment%d_size=%d' % (n, len(part['body'][kind])))
            n += 1
        print()


main()
