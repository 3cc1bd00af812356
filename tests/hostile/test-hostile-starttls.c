/* test-hostile-starttls.c: a man in the middle against STARTTLS, on IMAP,
 * POP3 and SMTP: STARTTLS not advertised, refused with every kind of
 * answer, the capability command hidden or failing, PREAUTH on a
 * connection that must be upgraded, bytes injected behind the go-ahead.
 * Tern must send no credentials and no mailbox command in clear, close the
 * connection, say why, and never repeat the server's words from before TLS.
 * The same servers behind implicit TLS are fine: nothing is needed from
 * STARTTLS there, and nothing is sent in clear at all.
 *
 * Each case asserts the exact bytes the client sent.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <string.h>

#include "test-hostile-common.h"

static TestCerts *certs;

#define SEND(text)   { FAKE_STEP_SEND, text, 0 }
#define EXPECT(text) { FAKE_STEP_EXPECT, text, 0 }
#define TLS          { FAKE_STEP_TLS, NULL, 0 }
#define DRAIN        { FAKE_STEP_DRAIN, NULL, 0 }
#define HANGUP       { FAKE_STEP_HANGUP, NULL, 0 }
#define END          { FAKE_STEP_END, NULL, 0 }
#define STEPS(...)   ((const FakeStep[]) { __VA_ARGS__, END })

typedef enum {
  OUTCOME_REFUSED,   /* the protocol's STARTTLS_REFUSED */
  OUTCOME_INJECTION, /* TERN_CONNECTION_ERROR_STARTTLS_INJECTION */
  OUTCOME_FAILED,    /* some other error; the connection is closed */
  OUTCOME_OPEN,      /* open succeeds (implicit TLS, or a real upgrade) */
} Outcome;

typedef struct {
  const char *name;
  HostileProtocol protocol;
  TernTlsMode mode;
  const FakeStep *steps;
  Outcome outcome;
  const char *sent;      /* exactly what the client sent in clear */
  const char *sent_tls;  /* exactly what it sent over TLS */
  /* For OUTCOME_OPEN: a capability the client must know, and one it must
   * not (said in clear, or not wanted over TLS). */
  const char *has;
  const char *lacks;
  /* The alerts the caller is shown (IMAP), only ever over TLS. */
  const char *alerts;
} Case;

#define IMAP_HELLO_STARTTLS "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] " EVIL "\r\n"
#define IMAP_TLS_CAPS       "* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=SCRAM-SHA-256\r\n"
#define POP3_CAPA_STLS      "+OK " EVIL "\r\nSASL PLAIN\r\nUSER\r\nSTLS\r\n.\r\n"
#define SMTP_EHLO_STARTTLS  "250-fake " EVIL "\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n"

static const Case cases[] = {
  /* IMAP, STARTTLS required */
  { "imap/starttls/not-advertised", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("* OK " EVIL "\r\n"), EXPECT ("T1 CAPABILITY\r\n"),
           SEND ("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nT1 OK " EVIL "\r\n"), DRAIN),
    OUTCOME_REFUSED, "T1 CAPABILITY\r\n" },
  { "imap/starttls/not-in-greeting", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN LOGIN] " EVIL "\r\n"), DRAIN),
    OUTCOME_REFUSED, "" },
  { "imap/starttls/no", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND (IMAP_HELLO_STARTTLS), EXPECT ("T1 STARTTLS\r\n"),
           SEND ("T1 NO [ALERT] " EVIL "\r\n"), DRAIN),
    OUTCOME_REFUSED, "T1 STARTTLS\r\n" },
  { "imap/starttls/bad", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND (IMAP_HELLO_STARTTLS), EXPECT ("T1 STARTTLS\r\n"),
           SEND ("T1 BAD " EVIL "\r\n"), DRAIN),
    OUTCOME_REFUSED, "T1 STARTTLS\r\n" },
  { "imap/starttls/bye", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND (IMAP_HELLO_STARTTLS), EXPECT ("T1 STARTTLS\r\n"),
           SEND ("* BYE " EVIL "\r\n"), HANGUP, DRAIN),
    OUTCOME_FAILED, "T1 STARTTLS\r\n" },
  { "imap/starttls/continuation", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND (IMAP_HELLO_STARTTLS), EXPECT ("T1 STARTTLS\r\n"),
           SEND ("+ " EVIL "\r\n"), DRAIN),
    OUTCOME_REFUSED, "T1 STARTTLS\r\n" },
  { "imap/starttls/garbage", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND (IMAP_HELLO_STARTTLS), EXPECT ("T1 STARTTLS\r\n"),
           SEND ("HTTP/1.1 400 " EVIL "\r\n"), DRAIN),
    OUTCOME_REFUSED, "T1 STARTTLS\r\n" },
  { "imap/starttls/capability-bad", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("* OK " EVIL "\r\n"), EXPECT ("T1 CAPABILITY\r\n"),
           SEND ("T1 BAD " EVIL "\r\n"), DRAIN),
    OUTCOME_FAILED, "T1 CAPABILITY\r\n" },
  { "imap/starttls/capability-hidden", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("* OK " EVIL "\r\n"), EXPECT ("T1 CAPABILITY\r\n"),
           SEND ("T1 OK " EVIL "\r\n"), DRAIN),
    OUTCOME_REFUSED, "T1 CAPABILITY\r\n" },
  { "imap/starttls/capability-no", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("* OK " EVIL "\r\n"), EXPECT ("T1 CAPABILITY\r\n"),
           SEND ("T1 NO [ALERT] " EVIL "\r\n"), DRAIN),
    OUTCOME_FAILED, "T1 CAPABILITY\r\n" },
  { "imap/starttls/capability-hangup", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("* OK " EVIL "\r\n"), EXPECT ("T1 CAPABILITY\r\n"), HANGUP, DRAIN),
    OUTCOME_FAILED, "T1 CAPABILITY\r\n" },
  { "imap/starttls/hangup", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND (IMAP_HELLO_STARTTLS), EXPECT ("T1 STARTTLS\r\n"), HANGUP, DRAIN),
    OUTCOME_FAILED, "T1 STARTTLS\r\n" },
  { "imap/starttls/other-tag", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND (IMAP_HELLO_STARTTLS), EXPECT ("T1 STARTTLS\r\n"),
           SEND ("T0 OK " EVIL "\r\n"), DRAIN),
    OUTCOME_FAILED, "T1 STARTTLS\r\n" },
  { "imap/starttls/preauth", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] " EVIL "\r\n"), DRAIN),
    OUTCOME_REFUSED, "" },
  { "imap/starttls/preauth-no-capability", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("* PREAUTH " EVIL "\r\n"), DRAIN),
    OUTCOME_REFUSED, "" },
  { "imap/starttls/greeting-bye", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("* BYE " EVIL "\r\n"), DRAIN),
    OUTCOME_FAILED, "" },
  { "imap/starttls/inject-capability", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND (IMAP_HELLO_STARTTLS), EXPECT ("T1 STARTTLS\r\n"),
           SEND ("T1 OK begin\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN LOGIN\r\n"), DRAIN),
    OUTCOME_INJECTION, "T1 STARTTLS\r\n" },
  { "imap/starttls/inject-tagged-ok", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND (IMAP_HELLO_STARTTLS), EXPECT ("T1 STARTTLS\r\n"),
           SEND ("T1 OK begin\r\nT2 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] done\r\n"), DRAIN),
    OUTCOME_INJECTION, "T1 STARTTLS\r\n" },
  { "imap/starttls/inject-alert", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND (IMAP_HELLO_STARTTLS), EXPECT ("T1 STARTTLS\r\n"),
           SEND ("T1 OK begin\r\n* OK [ALERT] " EVIL "\r\n"), DRAIN),
    OUTCOME_INJECTION, "T1 STARTTLS\r\n" },
  { "imap/starttls/inject-bye", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND (IMAP_HELLO_STARTTLS), EXPECT ("T1 STARTTLS\r\n"),
           SEND ("T1 OK begin\r\n* BYE " EVIL "\r\n"), DRAIN),
    OUTCOME_INJECTION, "T1 STARTTLS\r\n" },
  { "imap/starttls/upgraded", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGIN-REFERRALS] " EVIL "\r\n"),
           EXPECT ("T1 STARTTLS\r\n"), SEND ("T1 OK begin\r\n"), TLS,
           EXPECT ("T2 CAPABILITY\r\n"), SEND (IMAP_TLS_CAPS "T2 OK done\r\n"), DRAIN),
    OUTCOME_OPEN, "T1 STARTTLS\r\n", "T2 CAPABILITY\r\n", "AUTH=SCRAM-SHA-256",
    "LOGIN-REFERRALS" },
  /* Capabilities in the go-ahead itself came in clear: asked again. */
  { "imap/starttls/capability-in-ok", HOSTILE_IMAP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND (IMAP_HELLO_STARTTLS), EXPECT ("T1 STARTTLS\r\n"),
           SEND ("T1 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN X-FORGED] begin\r\n"), TLS,
           EXPECT ("T2 CAPABILITY\r\n"), SEND (IMAP_TLS_CAPS "T2 OK done\r\n"), DRAIN),
    OUTCOME_OPEN, "T1 STARTTLS\r\n", "T2 CAPABILITY\r\n", "AUTH=SCRAM-SHA-256", "X-FORGED" },
  /* IMAP, implicit TLS: STARTTLS is neither needed nor asked for. */
  { "imap/implicit/not-advertised", HOSTILE_IMAP, TERN_TLS_MODE_IMPLICIT,
    STEPS (TLS, SEND ("* OK [ALERT] Maintenance at noon\r\n"), EXPECT ("T1 CAPABILITY\r\n"),
           SEND (IMAP_TLS_CAPS "T1 OK done\r\n"), DRAIN),
    OUTCOME_OPEN, "", "T1 CAPABILITY\r\n", "AUTH=PLAIN", "STARTTLS",
    "alert Maintenance at noon;" },
  { "imap/implicit/advertised", HOSTILE_IMAP, TERN_TLS_MODE_IMPLICIT,
    STEPS (TLS, SEND (IMAP_HELLO_STARTTLS), DRAIN),
    OUTCOME_OPEN, "", "", "AUTH=PLAIN", NULL },
  { "imap/implicit/preauth", HOSTILE_IMAP, TERN_TLS_MODE_IMPLICIT,
    STEPS (TLS, SEND ("* PREAUTH [CAPABILITY IMAP4rev1] hello\r\n"), DRAIN),
    OUTCOME_OPEN, "", "", "IMAP4rev1", NULL },

  /* POP3, STARTTLS required */
  { "pop3/starttls/not-advertised", HOSTILE_POP3, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("+OK " EVIL "\r\n"), EXPECT ("CAPA\r\n"),
           SEND ("+OK\r\nSASL PLAIN\r\nUSER\r\n.\r\n"), DRAIN),
    OUTCOME_REFUSED, "CAPA\r\n" },
  { "pop3/starttls/err", HOSTILE_POP3, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("+OK hello\r\n"), EXPECT ("CAPA\r\n"), SEND (POP3_CAPA_STLS),
           EXPECT ("STLS\r\n"), SEND ("-ERR " EVIL "\r\n"), DRAIN),
    OUTCOME_REFUSED, "CAPA\r\nSTLS\r\n" },
  { "pop3/starttls/other", HOSTILE_POP3, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("+OK hello\r\n"), EXPECT ("CAPA\r\n"), SEND (POP3_CAPA_STLS),
           EXPECT ("STLS\r\n"), SEND ("+ " EVIL "\r\n"), DRAIN),
    OUTCOME_FAILED, "CAPA\r\nSTLS\r\n" },
  { "pop3/starttls/garbage", HOSTILE_POP3, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("+OK hello\r\n"), EXPECT ("CAPA\r\n"), SEND (POP3_CAPA_STLS),
           EXPECT ("STLS\r\n"), SEND ("HTTP/1.1 400 " EVIL "\r\n"), DRAIN),
    OUTCOME_FAILED, "CAPA\r\nSTLS\r\n" },
  { "pop3/starttls/capa-err", HOSTILE_POP3, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("+OK hello\r\n"), EXPECT ("CAPA\r\n"), SEND ("-ERR " EVIL "\r\n"), DRAIN),
    OUTCOME_REFUSED, "CAPA\r\n" },
  { "pop3/starttls/capa-hangup", HOSTILE_POP3, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("+OK hello\r\n"), EXPECT ("CAPA\r\n"), HANGUP, DRAIN),
    OUTCOME_FAILED, "CAPA\r\n" },
  { "pop3/starttls/hangup", HOSTILE_POP3, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("+OK hello\r\n"), EXPECT ("CAPA\r\n"), SEND (POP3_CAPA_STLS),
           EXPECT ("STLS\r\n"), HANGUP, DRAIN),
    OUTCOME_FAILED, "CAPA\r\nSTLS\r\n" },
  { "pop3/starttls/greeting-err", HOSTILE_POP3, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("-ERR " EVIL "\r\n"), DRAIN),
    OUTCOME_FAILED, "" },
  { "pop3/starttls/inject-capa", HOSTILE_POP3, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("+OK hello\r\n"), EXPECT ("CAPA\r\n"), SEND (POP3_CAPA_STLS),
           EXPECT ("STLS\r\n"), SEND ("+OK begin\r\n+OK\r\nUSER\r\n.\r\n"), DRAIN),
    OUTCOME_INJECTION, "CAPA\r\nSTLS\r\n" },
  { "pop3/starttls/inject-ok", HOSTILE_POP3, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("+OK hello\r\n"), EXPECT ("CAPA\r\n"), SEND (POP3_CAPA_STLS),
           EXPECT ("STLS\r\n"), SEND ("+OK begin\r\n+OK " EVIL "\r\n"), DRAIN),
    OUTCOME_INJECTION, "CAPA\r\nSTLS\r\n" },
  { "pop3/starttls/inject-err", HOSTILE_POP3, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("+OK hello\r\n"), EXPECT ("CAPA\r\n"), SEND (POP3_CAPA_STLS),
           EXPECT ("STLS\r\n"), SEND ("+OK begin\r\n-ERR [SYS/PERM] " EVIL "\r\n"), DRAIN),
    OUTCOME_INJECTION, "CAPA\r\nSTLS\r\n" },
  { "pop3/starttls/upgraded", HOSTILE_POP3, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("+OK hello\r\n"), EXPECT ("CAPA\r\n"), SEND (POP3_CAPA_STLS),
           EXPECT ("STLS\r\n"), SEND ("+OK begin\r\n"), TLS, EXPECT ("CAPA\r\n"),
           SEND ("+OK\r\nSASL SCRAM-SHA-256\r\nUIDL\r\n.\r\n"), DRAIN),
    OUTCOME_OPEN, "CAPA\r\nSTLS\r\n", "CAPA\r\n", "UIDL", "USER" },
  { "pop3/implicit/not-advertised", HOSTILE_POP3, TERN_TLS_MODE_IMPLICIT,
    STEPS (TLS, SEND ("+OK hello\r\n"), EXPECT ("CAPA\r\n"),
           SEND ("+OK\r\nSASL PLAIN\r\nUIDL\r\n.\r\n"), DRAIN),
    OUTCOME_OPEN, "", "CAPA\r\n", "UIDL", "STLS" },
  { "pop3/implicit/advertised", HOSTILE_POP3, TERN_TLS_MODE_IMPLICIT,
    STEPS (TLS, SEND ("+OK hello\r\n"), EXPECT ("CAPA\r\n"), SEND (POP3_CAPA_STLS), DRAIN),
    OUTCOME_OPEN, "", "CAPA\r\n", "SASL", NULL },

  /* SMTP, STARTTLS required */
  { "smtp/starttls/not-advertised", HOSTILE_SMTP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("220 fake " EVIL "\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
           SEND ("250-fake\r\n250 AUTH PLAIN\r\n"), DRAIN),
    OUTCOME_REFUSED, "EHLO " HOSTILE_DOMAIN "\r\n" },
  { "smtp/starttls/454", HOSTILE_SMTP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
           SEND (SMTP_EHLO_STARTTLS), EXPECT ("STARTTLS\r\n"), SEND ("454 4.7.0 " EVIL "\r\n"),
           DRAIN),
    OUTCOME_REFUSED, "EHLO " HOSTILE_DOMAIN "\r\nSTARTTLS\r\n" },
  { "smtp/starttls/502", HOSTILE_SMTP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
           SEND (SMTP_EHLO_STARTTLS), EXPECT ("STARTTLS\r\n"), SEND ("502 5.5.1 " EVIL "\r\n"),
           DRAIN),
    OUTCOME_REFUSED, "EHLO " HOSTILE_DOMAIN "\r\nSTARTTLS\r\n" },
  { "smtp/starttls/250", HOSTILE_SMTP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
           SEND (SMTP_EHLO_STARTTLS), EXPECT ("STARTTLS\r\n"), SEND ("250 " EVIL "\r\n"), DRAIN),
    OUTCOME_REFUSED, "EHLO " HOSTILE_DOMAIN "\r\nSTARTTLS\r\n" },
  { "smtp/starttls/421", HOSTILE_SMTP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
           SEND (SMTP_EHLO_STARTTLS), EXPECT ("STARTTLS\r\n"), SEND ("421 4.3.2 " EVIL "\r\n"),
           HANGUP, DRAIN),
    OUTCOME_FAILED, "EHLO " HOSTILE_DOMAIN "\r\nSTARTTLS\r\n" },
  { "smtp/starttls/554", HOSTILE_SMTP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
           SEND (SMTP_EHLO_STARTTLS), EXPECT ("STARTTLS\r\n"), SEND ("554 5.7.3 " EVIL "\r\n"),
           DRAIN),
    OUTCOME_REFUSED, "EHLO " HOSTILE_DOMAIN "\r\nSTARTTLS\r\n" },
  { "smtp/starttls/hangup", HOSTILE_SMTP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
           SEND (SMTP_EHLO_STARTTLS), EXPECT ("STARTTLS\r\n"), HANGUP, DRAIN),
    OUTCOME_FAILED, "EHLO " HOSTILE_DOMAIN "\r\nSTARTTLS\r\n" },
  { "smtp/starttls/garbage", HOSTILE_SMTP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
           SEND (SMTP_EHLO_STARTTLS), EXPECT ("STARTTLS\r\n"),
           SEND ("HTTP/1.1 400 " EVIL "\r\n"), DRAIN),
    OUTCOME_FAILED, "EHLO " HOSTILE_DOMAIN "\r\nSTARTTLS\r\n" },
  { "smtp/starttls/ehlo-refused", HOSTILE_SMTP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
           SEND ("502 " EVIL "\r\n"), EXPECT ("HELO " HOSTILE_DOMAIN "\r\n"),
           SEND ("250 fake\r\n"), DRAIN),
    OUTCOME_REFUSED, "EHLO " HOSTILE_DOMAIN "\r\nHELO " HOSTILE_DOMAIN "\r\n" },
  { "smtp/starttls/helo-refused", HOSTILE_SMTP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
           SEND ("500 " EVIL "\r\n"), EXPECT ("HELO " HOSTILE_DOMAIN "\r\n"),
           SEND ("501 " EVIL "\r\n"), DRAIN),
    OUTCOME_FAILED, "EHLO " HOSTILE_DOMAIN "\r\nHELO " HOSTILE_DOMAIN "\r\n" },
  { "smtp/starttls/ehlo-421", HOSTILE_SMTP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
           SEND ("421 4.3.2 " EVIL "\r\n"), DRAIN),
    OUTCOME_FAILED, "EHLO " HOSTILE_DOMAIN "\r\n" },
  { "smtp/starttls/ehlo-hangup", HOSTILE_SMTP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"), HANGUP, DRAIN),
    OUTCOME_FAILED, "EHLO " HOSTILE_DOMAIN "\r\n" },
  { "smtp/starttls/greeting-554", HOSTILE_SMTP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("554 " EVIL "\r\n"), DRAIN),
    OUTCOME_FAILED, "" },
  { "smtp/starttls/inject-ehlo", HOSTILE_SMTP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
           SEND (SMTP_EHLO_STARTTLS), EXPECT ("STARTTLS\r\n"),
           SEND ("220 2.0.0 go\r\n250-evil\r\n250 AUTH PLAIN LOGIN\r\n"), DRAIN),
    OUTCOME_INJECTION, "EHLO " HOSTILE_DOMAIN "\r\nSTARTTLS\r\n" },
  { "smtp/starttls/inject-235", HOSTILE_SMTP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
           SEND (SMTP_EHLO_STARTTLS), EXPECT ("STARTTLS\r\n"),
           SEND ("220 2.0.0 go\r\n235 2.7.0 " EVIL "\r\n"), DRAIN),
    OUTCOME_INJECTION, "EHLO " HOSTILE_DOMAIN "\r\nSTARTTLS\r\n" },
  { "smtp/starttls/inject-421", HOSTILE_SMTP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
           SEND (SMTP_EHLO_STARTTLS), EXPECT ("STARTTLS\r\n"),
           SEND ("220 2.0.0 go\r\n421 4.3.2 " EVIL "\r\n"), DRAIN),
    OUTCOME_INJECTION, "EHLO " HOSTILE_DOMAIN "\r\nSTARTTLS\r\n" },
  { "smtp/starttls/upgraded", HOSTILE_SMTP, TERN_TLS_MODE_STARTTLS,
    STEPS (SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
           SEND ("250-fake\r\n250-STARTTLS\r\n250-8BITMIME\r\n250 AUTH PLAIN\r\n"),
           EXPECT ("STARTTLS\r\n"), SEND ("220 go\r\n"), TLS,
           EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
           SEND ("250-fake\r\n250-SIZE 1000\r\n250 AUTH SCRAM-SHA-256\r\n"), DRAIN),
    OUTCOME_OPEN, "EHLO " HOSTILE_DOMAIN "\r\nSTARTTLS\r\n", "EHLO " HOSTILE_DOMAIN "\r\n",
    "SIZE", "8BITMIME" },
  { "smtp/implicit/not-advertised", HOSTILE_SMTP, TERN_TLS_MODE_IMPLICIT,
    STEPS (TLS, SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
           SEND ("250-fake\r\n250 AUTH PLAIN\r\n"), DRAIN),
    OUTCOME_OPEN, "", "EHLO " HOSTILE_DOMAIN "\r\n", "AUTH", "STARTTLS" },
  { "smtp/implicit/advertised", HOSTILE_SMTP, TERN_TLS_MODE_IMPLICIT,
    STEPS (TLS, SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
           SEND (SMTP_EHLO_STARTTLS), DRAIN),
    OUTCOME_OPEN, "", "EHLO " HOSTILE_DOMAIN "\r\n", "AUTH", NULL },
};

static gboolean
has_capability (HostileProtocol  protocol,
                GObject         *client,
                const char      *name)
{
  switch (protocol)
    {
    case HOSTILE_IMAP:
      return tern_imap_client_has_capability (TERN_IMAP_CLIENT (client), name);
    case HOSTILE_POP3:
      return tern_pop3_client_has_capability (TERN_POP3_CLIENT (client), name);
    case HOSTILE_SMTP:
    default:
      return tern_smtp_client_has_extension (TERN_SMTP_CLIENT (client), name);
    }
}

static void
record_alert_cb (const char *text,
                 gpointer    user_data)
{
  g_string_append_printf (user_data, "alert %s;", text);
}

static void
run_case (gconstpointer data)
{
  const Case *c = data;
  FakeDialogue dialogue = { c->steps, certs->good, certs->key, NULL, 0, 0 };
  g_autoptr(FakeServer) server = fake_server_start_dialogue (&dialogue);
  g_autoptr(TernConnection) connection = fake_connection_new (server, c->mode, certs->ca_file);
  g_autoptr(GObject) client = hostile_client_new (c->protocol, connection);
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;
  g_autofree char *sent_tls = NULL;
  g_autoptr(GString) alerts = g_string_new (NULL);
  TernImapClientEvents events = { .alert = record_alert_cb };
  gboolean opened;

  /* An ALERT in clear is never shown as the server's word. */
  if (c->protocol == HOSTILE_IMAP)
    tern_imap_client_set_events (TERN_IMAP_CLIENT (client), &events, alerts);
  opened = hostile_client_open (c->protocol, client, &error);
  g_assert_cmpstr (alerts->str, ==, c->alerts != NULL ? c->alerts : "");

  switch (c->outcome)
    {
    case OUTCOME_REFUSED:
      g_assert_error (error, hostile_error_domain (c->protocol),
                      hostile_starttls_refused_code (c->protocol));
      break;
    case OUTCOME_INJECTION:
      g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_STARTTLS_INJECTION);
      break;
    case OUTCOME_FAILED:
      g_assert_false (opened);
      g_assert_nonnull (error);
      break;
    case OUTCOME_OPEN:
    default:
      g_assert_no_error (error);
      g_assert_true (tern_connection_is_tls (connection));
      g_assert_true (has_capability (c->protocol, client, c->has));
      if (c->lacks != NULL)
        g_assert_false (has_capability (c->protocol, client, c->lacks));
      /* Closed without a goodbye: the script drains. */
      tern_connection_close (connection, NULL, NULL);
      break;
    }

  if (error != NULL)
    {
      g_test_message ("%s", error->message);
      /* Who refused, and never what they said in clear. */
      g_assert_nonnull (strstr (error->message, "127.0.0.1:"));
      g_assert_null (strstr (error->message, EVIL));
      hostile_assert_dead (c->protocol, client);
    }

  g_assert_finalize_object (g_steal_pointer (&client));
  fake_server_join (server);
  sent = fake_received_text (server);
  sent_tls = fake_received_tls_text (server);
  g_assert_cmpstr (sent, ==, c->sent);
  hostile_assert_nothing_secret (sent);
  g_assert_cmpstr (sent_tls, ==, (c->sent_tls != NULL ? c->sent_tls : ""));
}

/* Untagged data forged in clear after the greeting (mailboxes, counts,
 * flags, capabilities) is forgotten with the upgrade: after TLS the
 * client knows only what the server said over TLS. */

static const FakeStep tamper_steps[] = {
  SEND ("* OK [ALERT] " EVIL "\r\n"
        "* LIST () \"/\" Forged\r\n"
        "* STATUS INBOX (MESSAGES 99 UIDNEXT 99)\r\n"
        "* 99 EXISTS\r\n"
        "* 1 EXPUNGE\r\n"
        "* 1 FETCH (UID 1 FLAGS (\\Deleted))\r\n"
        "* FLAGS (\\Deleted Forged)\r\n"
        "* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN LIST-EXTENDED\r\n"),
  EXPECT ("T1 CAPABILITY\r\n"),
  SEND ("* LIST () \"/\" Forged2\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\n* 5 EXISTS\r\n"
        "* OK [ALERT] " EVIL "\r\nT1 OK [ALERT] " EVIL "\r\n"),
  EXPECT ("T2 STARTTLS\r\n"),
  SEND ("* 7 EXISTS\r\n* STATUS INBOX (MESSAGES 98)\r\nT2 OK begin\r\n"),
  TLS,
  EXPECT ("T3 CAPABILITY\r\n"),
  SEND ("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nT3 OK done\r\n"),
  EXPECT ("T4 LIST \"\" \"*\"\r\n"),
  SEND ("* LIST () \"/\" INBOX\r\nT4 OK done\r\n"),
  EXPECT ("T5 LSUB \"\" \"*\"\r\n"),
  SEND ("T5 OK done\r\n"),
  EXPECT ("T6 STATUS INBOX (MESSAGES UIDNEXT)\r\n"),
  SEND ("* STATUS INBOX (MESSAGES 1 UIDNEXT 2)\r\nT6 OK done\r\n"),
  EXPECT ("T7 SELECT INBOX\r\n"),
  SEND ("* 1 EXISTS\r\n* FLAGS (\\Seen)\r\n* OK [UIDVALIDITY 3] x\r\n* OK [UIDNEXT 2] x\r\n"
        "T7 OK [READ-WRITE] done\r\n"),
  DRAIN,
  END,
};

static void
count_exists_cb (guint32  count,
                 gpointer user_data)
{
  g_string_append_printf (user_data, "exists %u;", count);
}

static void
count_vanished_cb (const TernImapSet *uids,
                   gpointer           user_data)
{
  g_string_append (user_data, "vanished;");
}

static void
count_fetch_cb (const TernImapMessage *message,
                gpointer               user_data)
{
  g_string_append (user_data, "fetch;");
}

static void
count_alert_cb (const char *text,
                gpointer    user_data)
{
  g_string_append_printf (user_data, "alert %s;", text);
}

static void
test_tamper_before_tls (void)
{
  FakeDialogue dialogue = { tamper_steps, certs->good, certs->key, NULL, 0, 0 };
  g_autoptr(FakeServer) server = fake_server_start_dialogue (&dialogue);
  g_autoptr(TernConnection) connection = fake_connection_new (server, TERN_TLS_MODE_STARTTLS,
                                                              certs->ca_file);
  g_autoptr(TernImapClient) client = tern_imap_client_new (connection);
  g_autoptr(GString) events_log = g_string_new (NULL);
  TernImapClientEvents events = {
    .exists = count_exists_cb,
    .vanished = count_vanished_cb,
    .fetch = count_fetch_cb,
    .alert = count_alert_cb,
  };
  g_autoptr(GPtrArray) mailboxes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;
  TernImapStatus status;
  TernImapSelected selected;
  TernImapMailbox *inbox;

  tern_imap_client_set_events (client, &events, events_log);
  tern_imap_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (events_log->str, ==, "");
  g_assert_false (tern_imap_client_has_capability (client, "LIST-EXTENDED"));
  g_assert_false (tern_imap_client_has_capability (client, "STARTTLS"));

  mailboxes = tern_imap_client_list (client, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mailboxes->len, ==, 1);
  inbox = mailboxes->pdata[0];
  g_assert_cmpstr (inbox->name, ==, "INBOX");

  tern_imap_client_status (client, "INBOX",
                           TERN_IMAP_STATUS_MESSAGES | TERN_IMAP_STATUS_UIDNEXT, &status, NULL,
                           &error);
  g_assert_no_error (error);
  g_assert_cmpuint (status.messages, ==, 1);
  g_assert_cmpuint (status.uidnext, ==, 2);

  tern_imap_client_select (client, "INBOX", FALSE, NULL, &selected, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (selected.exists, ==, 1);
  g_assert_cmpuint (selected.uidnext, ==, 2);
  tern_imap_selected_clear (&selected);
  /* Nothing said in clear reached the caller. */
  g_assert_null (strstr (events_log->str, "99"));
  g_assert_null (strstr (events_log->str, "vanished"));
  g_assert_null (strstr (events_log->str, "fetch"));
  /* Alerts in clear are not the server's word: never shown. */
  g_assert_null (strstr (events_log->str, "alert"));

  tern_connection_close (connection, NULL, NULL);
  g_assert_finalize_object (g_steal_pointer (&client));
  fake_server_join (server);
  sent = fake_received_text (server);
  g_assert_cmpstr (sent, ==, "T1 CAPABILITY\r\nT2 STARTTLS\r\n");
}

/* REFERRAL (RFC 2221) names another server: Tern never goes there, before
 * TLS or after, and does not show the referral's text from before TLS. */

static GSocket *
referral_target (guint16 *port)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, TRUE, &error);
  g_assert_no_error (error);
  g_socket_listen (socket, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_set_blocking (socket, FALSE);
  return g_steal_pointer (&socket);
}

static void
assert_nobody_came (GSocket *target)
{
  g_autoptr(GSocket) accepted = NULL;
  g_autoptr(GError) error = NULL;

  accepted = g_socket_accept (target, NULL, &error);
  g_assert_null (accepted);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
}

static void
test_referral_before_tls (void)
{
  guint16 port;
  g_autoptr(GSocket) target = referral_target (&port);
  g_autofree char *greeting = g_strdup_printf ("* BYE [REFERRAL imap://alice@127.0.0.1:%u/] "
                                               EVIL "\r\n", port);
  const FakeStep steps[] = { SEND (greeting), HANGUP, DRAIN, END };
  FakeDialogue dialogue = { steps, certs->good, certs->key, NULL, 0, 0 };
  g_autoptr(FakeServer) server = fake_server_start_dialogue (&dialogue);
  g_autoptr(TernConnection) connection = fake_connection_new (server, TERN_TLS_MODE_STARTTLS,
                                                              certs->ca_file);
  g_autoptr(TernImapClient) client = tern_imap_client_new (connection);
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  g_assert_false (tern_imap_client_open (client, NULL, &error));
  g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_BYE);
  g_test_message ("%s", error->message);
  g_assert_null (strstr (error->message, EVIL));
  g_assert_null (strstr (error->message, "REFERRAL"));
  hostile_assert_dead (HOSTILE_IMAP, G_OBJECT (client));
  g_assert_finalize_object (g_steal_pointer (&client));
  fake_server_join (server);
  sent = fake_received_text (server);
  g_assert_cmpstr (sent, ==, "");
  assert_nobody_came (target);
}

static void
test_referral_over_tls (void)
{
  guint16 port;
  g_autoptr(GSocket) target = referral_target (&port);
  g_autofree char *refusal = g_strdup_printf ("T1 NO [REFERRAL imap://alice@127.0.0.1:%u/] "
                                              "Try the other server\r\n", port);
  const FakeStep steps[] = {
    TLS, SEND ("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hello\r\n"),
    EXPECT (NULL), SEND (refusal), DRAIN, END,
  };
  FakeDialogue dialogue = { steps, certs->good, certs->key, NULL, 0, 0 };
  g_autoptr(FakeServer) server = fake_server_start_dialogue (&dialogue);
  g_autoptr(TernConnection) connection = fake_connection_new (server, TERN_TLS_MODE_IMPLICIT,
                                                              certs->ca_file);
  g_autoptr(TernImapClient) client = tern_imap_client_new (connection);
  g_autoptr(GError) error = NULL;
  g_autofree char *sent_tls = NULL;

  tern_imap_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_imap_client_login (client, "alice", HOSTILE_PASSWORD, "PLAIN", FALSE, NULL,
                                          &error));
  g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_AUTH_FAILED);
  g_test_message ("%s", error->message);
  tern_connection_close (connection, NULL, NULL);
  g_assert_finalize_object (g_steal_pointer (&client));
  fake_server_join (server);
  sent_tls = fake_received_tls_text (server);
  g_assert_true (g_str_has_prefix (sent_tls, "T1 AUTHENTICATE PLAIN "));
  g_assert_cmpuint (server->received->len, ==, 0);
  assert_nobody_came (target);
}

int
main (int    argc,
      char **argv)
{
  int result;

  g_test_init (&argc, &argv, NULL);
  gnutls_global_init ();
  certs = test_certs_new ();

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strconcat ("/tern/hostile/", cases[i].name, NULL);

      g_test_add_data_func (path, &cases[i], run_case);
    }
  g_test_add_func ("/tern/hostile/imap/starttls/tamper-before-tls", test_tamper_before_tls);
  g_test_add_func ("/tern/hostile/imap/starttls/referral", test_referral_before_tls);
  g_test_add_func ("/tern/hostile/imap/implicit/referral", test_referral_over_tls);

  result = g_test_run ();
  test_certs_free (certs);
  gnutls_global_deinit ();
  return result;
}
