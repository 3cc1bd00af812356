# tern_bench_corpus.py: realistic mailboxes for the benchmarks, written
# straight into Dovecot's Maildir.
#
# Deterministic for a seed.  Fast because nothing is generated per byte:
# paragraphs are made once per language and charset (already encoded and
# transfer-encoded), attachments are slices of one base64 blob, and a
# message is the join of a few of those pieces.  100,000 messages take a
# minute or two, mostly in the kernel writing files.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import base64
import datetime
import email.header
import email.utils
import math
import os
import quopri
import random
import time

WORDS = {
    'en': ('the mail server meeting report project budget review draft update '
           'schedule weekly invoice customer release notes build test deploy '
           'question answer thanks please attached below above regards team '
           'tomorrow today monday friday morning evening office travel plan '
           'design proposal feedback change request issue ticket database '
           'network backup storage performance quarter numbers sales market').split(),
    'de': ('der die das und ist nicht mit für auf Besprechung Bericht Projekt '
           'Grüße Rückmeldung Änderung morgen heute Büro Straße Übersicht '
           'Anhang Entwurf Kunde Rechnung Woche schön größer fünf').split(),
    'fr': ('le la les et est pas avec pour sur réunion rapport projet été '
           'déjà très bientôt reçu envoyé pièce jointe élève château garçon '
           'leçon naïve fenêtre semaine client facture à où').split(),
    'ru': ('и в не на что это как по отчёт проект встреча письмо сервер '
           'почта сегодня завтра неделя бюджет клиент счёт вложение привет '
           'спасибо пожалуйста вопрос ответ изменение сборка выпуск данные '
           'съезд объём ёлка').split(),
    'zh': '的 一 是 在 不 了 有 和 人 这 中 大 为 上 个 国 我 以 要 他 时 来 用 们 邮件 会议 报告 项目'.split(),
}

# (language, charset, share): UTF-8 for everything, the legacy charsets for
# the languages that used them.
LANGUAGES = [
    ('en', 'us-ascii', 0.38),
    ('de', 'utf-8', 0.08),
    ('zh', 'utf-8', 0.06),
    ('ru', 'utf-8', 0.10),
    ('ru', 'windows-1251', 0.14),
    ('ru', 'koi8-r', 0.08),
    ('fr', 'iso-8859-1', 0.08),
    ('de', 'iso-8859-1', 0.08),
]

NAMES = ['Ann Example', 'Bob Builder', 'Иван Петров', 'Ольга Смирнова', 'José Álvarez',
         'François Dupont', 'Jürgen Müller', '王伟', 'Carol Smith', 'Dave Jones',
         'Eve Adams', 'Frank Wright', 'Мария Иванова', 'Hélène Martin']

FOLDERS = ['INBOX', 'Archive', 'Lists/dev', 'Lists/announce', 'Sent']

ATTACHMENTS = [('application/pdf', 'report.pdf'), ('image/jpeg', 'photo.jpg'),
               ('application/zip', 'archive.zip'),
               ('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'числа.xlsx'),
               ('image/png', 'diagram.png')]


def log_uniform(rng, low, high):
    return int(math.exp(rng.uniform(math.log(low), math.log(high))))


class Pieces:
    """Pre-encoded building blocks, made once per corpus."""

    def __init__(self, rng):
        self.paragraphs = {}   # (lang, charset) -> [(cte, bytes)] text/plain
        self.html = {}         # (lang, charset) -> [bytes] base64 of HTML
        for lang, charset, _ in LANGUAGES:
            words = WORDS[lang]
            sep = '' if lang == 'zh' else ' '
            plain, html = [], []
            for _ in range(64):
                text = '\n'.join(
                    sep.join(rng.choice(words) for _ in range(rng.randint(8, 14)))
                    for _ in range(rng.randint(3, 8))) + '\n\n'
                raw = text.encode(charset if charset != 'us-ascii' else 'ascii')
                plain.append(raw)
                markup = ('<p>' + text.replace('\n\n', '</p>\n<p>') + '</p>\n').encode(
                    charset if charset != 'us-ascii' else 'ascii')
                html.append(markup)
            self.paragraphs[(lang, charset)] = plain
            self.html[(lang, charset)] = html
        # One blob for every attachment: 6 MiB of noise, base64 in lines.
        blob = rng.randbytes(6 * 1024 * 1024)
        self.base64 = base64.encodebytes(blob)

    def attachment(self, rng, size):
        # A slice of whole 77-byte lines of about @size encoded bytes.
        lines = max(1, size // 77)
        start = rng.randrange(0, len(self.base64) // 77 - lines) * 77
        return self.base64[start:start + lines * 77]


def encode_header(text, charset):
    if text.isascii():
        return text
    try:
        text.encode(charset)
    except (UnicodeEncodeError, LookupError):
        charset = 'utf-8'
    return email.header.Header(text, charset).encode()


def encode_address(name, address, charset):
    return '%s <%s>' % (encode_header(name, charset), address)


def body_part(pieces, rng, lang, charset, target, html=False):
    """Paragraphs in @charset adding up to about @target bytes, with their
    transfer encoding."""
    pool = (pieces.html if html else pieces.paragraphs)[(lang, charset)]
    chunks, size = [], 0
    while size < target:
        p = rng.choice(pool)
        chunks.append(p)
        size += len(p)
    raw = b''.join(chunks)
    if html:
        raw = b'<html><body>\n' + raw + b'</body></html>\n'
        return 'base64', base64.encodebytes(raw)
    if charset == 'us-ascii':
        return '7bit', raw
    if charset in ('koi8-r', 'windows-1251') or rng.random() < 0.5:
        return '8bit', raw
    return 'quoted-printable', quopri.encodestring(raw)


class Threads:
    """Which earlier message a new one answers: about 40 % are replies."""

    def __init__(self):
        self.recent = []   # (message-id, references, subject)

    def pick(self, rng):
        if self.recent and rng.random() < 0.4:
            return self.recent[-rng.randint(1, min(len(self.recent), 200))]
        return None

    def add(self, entry):
        self.recent.append(entry)
        if len(self.recent) > 400:
            del self.recent[:200]


def make_message(i, folder, user, when, rng, pieces, threads):
    lang, charset = rng.choices([(l, c) for l, c, _ in LANGUAGES],
                                weights=[w for _, _, w in LANGUAGES])[0]
    # Most messages 2-20 KB; 6 % carry a 20-100 KB attachment; 0.3 % a
    # 100 KB-5 MB one.
    roll = rng.random()
    if roll < 0.003:
        attachment = log_uniform(rng, 100 * 1024, 5 * 1024 * 1024)
    elif roll < 0.063:
        attachment = log_uniform(rng, 20 * 1024, 100 * 1024)
    else:
        attachment = 0
    text_size = log_uniform(rng, 1000, 9000)
    alternative = rng.random() < 0.45

    domain = user.split('@')[1]
    msgid = '<%d.%s.%x@bench.%s>' % (i, folder.replace('/', '.'), rng.getrandbits(32), domain)
    parent = threads.pick(rng)
    words = WORDS[lang]
    if parent is None:
        subject = ' '.join(rng.choice(words) for _ in range(rng.randint(3, 7))).capitalize()
        references = []
    else:
        subject = parent[2] if parent[2].startswith('Re: ') else 'Re: ' + parent[2]
        references = (parent[1] + [parent[0]])[-10:]
    threads.add((msgid, references, subject))
    sender = rng.choice(NAMES)
    local = 'user%d' % rng.randrange(500)
    headers = [
        'Return-Path: <%s@example.org>' % local,
        'Received: from mx.example.org (mx.example.org [192.0.2.%d]) by bench.%s'
        ' with ESMTPS id %x; %s' % (rng.randrange(1, 255), domain, rng.getrandbits(40),
                                     email.utils.format_datetime(when)),
        'Message-ID: %s' % msgid,
        'Date: %s' % email.utils.format_datetime(when),
        'From: %s' % encode_address(sender, local + '@example.org', charset),
        'To: %s' % encode_address('Alice', user, charset),
        'Subject: %s' % encode_header(subject, charset),
        'MIME-Version: 1.0',
    ]
    if rng.random() < 0.3:
        headers.append('Cc: %s' % encode_address(rng.choice(NAMES), 'cc%d@example.net'
                                                 % rng.randrange(100), charset))
    if references:
        headers.append('In-Reply-To: %s' % references[-1])
        headers.append('References: %s' % ' '.join(references))
    if folder.startswith('Lists/'):
        headers.append('List-Id: <%s.lists.example.org>' % folder[6:])

    cte, payload = body_part(pieces, rng, lang, charset, text_size)
    text_headers = 'Content-Type: text/plain; charset="%s"\nContent-Transfer-Encoding: %s\n' % (
        charset, cte)
    if alternative:
        boundary = '=_alt_%d_%x' % (i, rng.getrandbits(32))
        html_cte, html_payload = body_part(pieces, rng, lang, charset, text_size, html=True)
        content = ('Content-Type: multipart/alternative; boundary="%s"\n\n' % boundary).encode()
        content += b'--' + boundary.encode() + b'\n' + text_headers.encode() + b'\n' + payload
        content += (b'\n--' + boundary.encode() + b'\n' +
                    ('Content-Type: text/html; charset="%s"\nContent-Transfer-Encoding: %s\n\n'
                     % (charset, html_cte)).encode() + html_payload)
        content += b'\n--' + boundary.encode() + b'--\n'
    else:
        content = text_headers.encode() + b'\n' + payload
    if attachment:
        boundary = '=_mixed_%d_%x' % (i, rng.getrandbits(32))
        mime, name = rng.choice(ATTACHMENTS)
        inner = content
        content = ('Content-Type: multipart/mixed; boundary="%s"\n\n' % boundary).encode()
        content += b'--' + boundary.encode() + b'\n' + inner
        content += (b'\n--' + boundary.encode() + b'\n' +
                    ('Content-Type: %s; name="%s"\nContent-Disposition: attachment; '
                     'filename="%s"\nContent-Transfer-Encoding: base64\n\n'
                     % (mime, encode_header(name, 'utf-8'), encode_header(name, 'utf-8'))).encode()
                    + pieces.attachment(rng, attachment))
        content += b'\n--' + boundary.encode() + b'--\n'
    return ('\n'.join(headers) + '\n').encode('ascii') + content


def folder_counts(total):
    """INBOX holds @total; the other folders 2 % each (at least a few)."""
    counts = {'INBOX': total}
    for folder in FOLDERS[1:]:
        counts[folder] = max(5, total // 50)
    return counts


def write_folder(mdir, folder, user, count, seed, uid, now):
    """Writes @count messages into the Maildir folder @mdir (cur/ must
    exist).  Returns the bytes written."""
    rng = random.Random('%s/%s/%d' % (seed, folder, count))
    pieces = Pieces(random.Random(seed))
    threads = Threads()
    cur = os.path.join(mdir, 'cur')
    total = 0
    for i in range(count):
        # One message every ~9 minutes back from now, oldest first; the
        # file name starts with the time, so Dovecot numbers them in order.
        ts = now - (count - i) * 557 - rng.randint(0, 120)
        zone = datetime.timezone(datetime.timedelta(hours=rng.choice([-5, 0, 1, 3, 8])))
        when = datetime.datetime.fromtimestamp(ts, zone)
        data = make_message(i, folder, user, when, rng, pieces, threads).replace(b'\n', b'\r\n')
        flags = ''
        if rng.random() < 0.7:
            flags += 'S'
        if rng.random() < 0.03:
            flags = 'F' + flags
        name = '%d.M%dP1Q%d.bench,S=%d:2,%s' % (int(ts), i, i, len(data), flags)
        path = os.path.join(cur, name)
        with open(path, 'wb') as f:
            f.write(data)
        os.utime(path, (ts, ts))
        os.chown(path, uid, uid)
        total += len(data)
    return total


def generate(maildir_path_of, user, total, seed=1, uid=5000, log=print):
    """Fills the folders of @user; @maildir_path_of(folder) returns the
    folder's Maildir directory (created).  Returns {folder: count}."""
    counts = folder_counts(total)
    now = time.time()
    for folder, count in counts.items():
        start = time.monotonic()
        mdir = maildir_path_of(folder)
        size = write_folder(mdir, folder, user, count, seed, uid, now)
        log('corpus: %s: %d messages, %.1f MB in %.1f s'
            % (folder, count, size / 1e6, time.monotonic() - start))
    return counts
