/* tern-autoconfig.h: from a name, an address and a password to the servers
 * of an account, and a login test of them before the account is saved.
 *
 * Detection asks several sources at once and takes the best-ranked one
 * that answers (the order of TernAutoconfigSource); only when none does,
 * it probes the usual host names and ports.  Everything runs on worker
 * threads; the "attempt" signal tells the caller's main context what is
 * being tried, so a wizard can show it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-account.h"
#include "tern-context.h"
#include "tern-server.h"

G_BEGIN_DECLS

/* In rank order: a lower source wins over a higher one when both answer.
 * Except: plain HTTP, though asked at once with the others, is taken only
 * when secure probing found no complete configuration, and plaintext
 * probes count only after it. */
typedef enum {
  TERN_AUTOCONFIG_SOURCE_PROVIDER,   /* a provider file shipped with Tern        */
  TERN_AUTOCONFIG_SOURCE_AUTOCONFIG, /* the provider's own autoconfig, HTTPS     */
  TERN_AUTOCONFIG_SOURCE_ISPDB,      /* Thunderbird's public database            */
  TERN_AUTOCONFIG_SOURCE_MX,         /* the three above, for the MX host's domain */
  TERN_AUTOCONFIG_SOURCE_SRV,        /* RFC 6186 SRV records                     */
  TERN_AUTOCONFIG_SOURCE_HTTP,       /* autoconfig over plain HTTP: untrusted    */
  TERN_AUTOCONFIG_SOURCE_PROBE,      /* connecting to the usual hosts and ports  */
  TERN_AUTOCONFIG_SOURCE_GUESS,      /* the hosting default, nothing verified    */
} TernAutoconfigSource;

const char *tern_autoconfig_source_to_string (TernAutoconfigSource source);
/* Translated, for people: "provider file", "DNS SRV records" ... */
const char *tern_autoconfig_source_describe  (TernAutoconfigSource source);

typedef enum {
  TERN_AUTOCONFIG_PROTOCOL_IMAP,
  TERN_AUTOCONFIG_PROTOCOL_POP3,
  TERN_AUTOCONFIG_PROTOCOL_SMTP,
} TernAutoconfigProtocol;

const char *tern_autoconfig_protocol_to_string (TernAutoconfigProtocol protocol);

/* How a server lets users sign in, from the configuration's
 * <authentication> elements. */
typedef enum {
  TERN_AUTOCONFIG_AUTH_PASSWORD = 1 << 0, /* password-cleartext, password-encrypted */
  TERN_AUTOCONFIG_AUTH_OAUTH2   = 1 << 1,
  TERN_AUTOCONFIG_AUTH_OTHER    = 1 << 2, /* client certificates, GSSAPI, NTLM ... */
} TernAutoconfigAuth;

/* What kind of password the provider accepts from a mail program: the UI
 * explains the last two before the user types the wrong one. */
typedef enum {
  TERN_AUTOCONFIG_PASSWORD_NORMAL,
  TERN_AUTOCONFIG_PASSWORD_APP,    /* an app password made on the provider's web site */
  TERN_AUTOCONFIG_PASSWORD_OAUTH2, /* no password at all: sign-in through the browser */
} TernAutoconfigPassword;

typedef struct
{
  TernAutoconfigProtocol  protocol;
  /* host, port, security and the user name made from the template;
   * auth is NULL (the best mechanism offered). */
  TernServer             *server;
  char                   *username_template; /* "%EMAILADDRESS%" ... */
  TernAutoconfigAuth      auth;
} TernAutoconfigServer;

#define TERN_TYPE_AUTOCONFIG_SERVER (tern_autoconfig_server_get_type ())
GType                 tern_autoconfig_server_get_type (void) G_GNUC_CONST;
TernAutoconfigServer *tern_autoconfig_server_copy     (const TernAutoconfigServer *server);
void                  tern_autoconfig_server_free     (TernAutoconfigServer       *server);
/* Whether a password sign-in cannot work on this server. */
gboolean              tern_autoconfig_server_needs_oauth2 (const TernAutoconfigServer *server);
/* Plaintext: neither implicit TLS nor STARTTLS. */
gboolean              tern_autoconfig_server_is_insecure  (const TernAutoconfigServer *server);

typedef struct
{
  TernAutoconfigSource    source;
  /* Where it came from, for people: a file name, a URL, DNS names. */
  char                   *origin;
  char                   *provider_name; /* the provider's display name, or NULL */
  /* Came over plain HTTP: anyone on the way could have changed it. */
  gboolean                untrusted;
  /* Some server is plaintext: the user must confirm before it is used. */
  gboolean                insecure;
  TernAutoconfigPassword  password_kind;
  /* A page about app passwords or about enabling IMAP/POP access; NULL. */
  char                   *help_url;
  /* TernAutoconfigServer, best first.  Incoming may hold IMAP and POP3;
   * probing may find incoming servers but no outgoing one (empty). */
  GPtrArray              *incoming;
  GPtrArray              *outgoing;
} TernAutoconfigConfig;

#define TERN_TYPE_AUTOCONFIG_CONFIG (tern_autoconfig_config_get_type ())
GType                 tern_autoconfig_config_get_type (void) G_GNUC_CONST;
TernAutoconfigConfig *tern_autoconfig_config_copy     (const TernAutoconfigConfig *config);
void                  tern_autoconfig_config_free     (TernAutoconfigConfig       *config);
/* The first incoming server of @protocol, or NULL. */
const TernAutoconfigServer *tern_autoconfig_config_find (const TernAutoconfigConfig *config,
                                                         TernAutoconfigProtocol      protocol);

typedef enum {
  TERN_AUTOCONFIG_RESULT_TRYING,
  TERN_AUTOCONFIG_RESULT_FOUND,
  TERN_AUTOCONFIG_RESULT_NOT_FOUND, /* answered: nothing there (404, no record, no file) */
  TERN_AUTOCONFIG_RESULT_INVALID,   /* answered with something unusable */
  TERN_AUTOCONFIG_RESULT_FAILED,    /* unreachable, timed out, TLS, certificate */
  TERN_AUTOCONFIG_RESULT_SKIPPED,   /* still running when a better source had answered */
} TernAutoconfigResult;

const char *tern_autoconfig_result_to_string (TernAutoconfigResult result);

/* One thing tried.  Reported twice through "attempt": when it starts
 * (TRYING) and when it ends; @id tells the two apart from other attempts. */
typedef struct
{
  guint                 id;
  TernAutoconfigSource  source;
  char                 *host;    /* host name, DNS name or file name */
  guint16               port;    /* 0: not a connection (DNS, a file) */
  char                 *what;    /* the URL, the record, "IMAP TLS" ... */
  TernAutoconfigResult  result;
  char                 *message; /* why it failed, for people; or NULL */
} TernAutoconfigAttempt;

#define TERN_TYPE_AUTOCONFIG_ATTEMPT (tern_autoconfig_attempt_get_type ())
GType                  tern_autoconfig_attempt_get_type (void) G_GNUC_CONST;
TernAutoconfigAttempt *tern_autoconfig_attempt_copy     (const TernAutoconfigAttempt *attempt);
void                   tern_autoconfig_attempt_free     (TernAutoconfigAttempt       *attempt);

#define TERN_TYPE_AUTOCONFIG (tern_autoconfig_get_type ())
G_DECLARE_FINAL_TYPE (TernAutoconfig, tern_autoconfig, TERN, AUTOCONFIG, GObject)

/* Seconds for each HTTP fetch, DNS lookup and probe connection. */
#define TERN_AUTOCONFIG_DEFAULT_TIMEOUT 10
/* Milliseconds between the starts of two probes. */
#define TERN_AUTOCONFIG_DEFAULT_STAGGER 200

/* Made and used on one thread (the main thread in the GUI); the signal is
 * emitted there. */
TernAutoconfig *tern_autoconfig_new                (void);

/* Settings, also the properties "providers-dir", "ca-file", "resolver",
 * "timeout" and "stagger"; they take effect at the next detection.
 *
 * providers_dir: where the provider files are; NULL: $TERN_PROVIDERS_DIR,
 * else the installed ones.  ca_file: extra authorities, trusted besides the
 * system's, for HTTPS and the servers.  resolver: for MX and SRV records;
 * NULL: the default one.  timeout in seconds, stagger in milliseconds. */
void            tern_autoconfig_set_providers_dir  (TernAutoconfig *self,
                                                    const char     *providers_dir);
const char     *tern_autoconfig_get_providers_dir  (TernAutoconfig *self);
void            tern_autoconfig_set_ca_file        (TernAutoconfig *self,
                                                    const char     *ca_file);
const char     *tern_autoconfig_get_ca_file        (TernAutoconfig *self);
void            tern_autoconfig_set_resolver       (TernAutoconfig *self,
                                                    GResolver      *resolver);
GResolver      *tern_autoconfig_get_resolver       (TernAutoconfig *self);
void            tern_autoconfig_set_timeout        (TernAutoconfig *self,
                                                    guint           seconds);
void            tern_autoconfig_set_stagger        (TernAutoconfig *self,
                                                    guint           milliseconds);
/* For tests: every connection to @from ("host:port") goes to @to instead,
 * and once anything is mapped, addresses that are not mapped are
 * unreachable and DNS is asked only through a resolver set above, so a
 * test never touches the network.  Names in results stay the unmapped
 * ones.  Returns FALSE when either is not HOST:PORT. */
gboolean        tern_autoconfig_map_address        (TernAutoconfig *self,
                                                    const char     *from,
                                                    const char     *to);

/* Finds the servers of @address.  @password is not sent anywhere during
 * detection (it may be NULL); it is there for the login test.  Fails with
 * TERN_APP_ERROR_NOT_FOUND when nothing was found, G_IO_ERROR_CANCELLED
 * when cancelled. */
void                  tern_autoconfig_detect_async  (TernAutoconfig       *self,
                                                     const char           *address,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
TernAutoconfigConfig *tern_autoconfig_detect_finish (TernAutoconfig       *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);
/* Every attempt of the last detection (TernAutoconfigAttempt), in the
 * order they started; a new array. */
GPtrArray            *tern_autoconfig_dup_attempts  (TernAutoconfig       *self);

/* The hosting-provider default (mail.DOMAIN on 993, 995 and 465), for a
 * form to start from when detection found nothing.  NULL when the file is
 * missing. */
TernAutoconfigConfig *tern_autoconfig_guess         (TernAutoconfig       *self,
                                                     const char           *address);

/* The login test's verdict. */
typedef enum {
  TERN_LOGIN_TEST_OK,
  TERN_LOGIN_TEST_WRONG_PASSWORD, /* the server refused the user name or password */
  TERN_LOGIN_TEST_UNREACHABLE,    /* no connection, timed out, cut off */
  TERN_LOGIN_TEST_CERTIFICATE,    /* the certificate did not verify: see cert_* */
  TERN_LOGIN_TEST_NEEDS_OAUTH2,   /* the provider takes no passwords */
  TERN_LOGIN_TEST_FAILED,         /* anything else; the message says what */
} TernLoginTestStatus;

typedef enum {
  TERN_LOGIN_TEST_STEP_INCOMING,
  TERN_LOGIN_TEST_STEP_OUTGOING,
} TernLoginTestStep;

typedef struct
{
  TernLoginTestStatus  status;
  TernLoginTestStep    step;     /* the step that failed; OUTGOING when all passed */
  char                *message;  /* a sentence for the user; NULL when OK */
  /* The user names the servers accepted (maybe the other form than the
   * template's); NULL until that step passed. */
  char                *incoming_username;
  char                *outgoing_username;
  /* CERTIFICATE: the server (as configured), what is wrong (message),
   * issuer, names, validity and SHA-256 (description), and the
   * fingerprint to pin with tern_certificate_pins_accept(). */
  char                *cert_host;
  guint16              cert_port;
  char                *cert_description;
  char                *cert_fingerprint;
} TernLoginTest;

#define TERN_TYPE_LOGIN_TEST (tern_login_test_get_type ())
GType          tern_login_test_get_type (void) G_GNUC_CONST;
TernLoginTest *tern_login_test_copy     (const TernLoginTest *test);
void           tern_login_test_free     (TernLoginTest       *test);

/* Signs in to @incoming, then AUTHs to @outgoing (when not NULL), with
 * @context's trust (its CA file and accepted certificates) and this
 * object's address map.  On an authentication failure it tries the other
 * form of the user name (the address or its local part).  Never saves
 * anything.  The result is NULL only on cancellation. */
void           tern_autoconfig_test_login_async  (TernAutoconfig             *self,
                                                  TernContext                *context,
                                                  const char                 *address,
                                                  const char                 *password,
                                                  const TernAutoconfigServer *incoming,
                                                  const TernAutoconfigServer *outgoing,
                                                  GCancellable               *cancellable,
                                                  GAsyncReadyCallback         callback,
                                                  gpointer                    user_data);
TernLoginTest *tern_autoconfig_test_login_finish (TernAutoconfig             *self,
                                                  GAsyncResult               *result,
                                                  GError                    **error);

/* The account to save: @incoming and @outgoing with the user names the
 * login test found (NULL @test: the templates'). */
TernAccount   *tern_autoconfig_make_account      (const char                 *display_name,
                                                  const char                 *address,
                                                  const TernAutoconfigServer *incoming,
                                                  const TernAutoconfigServer *outgoing,
                                                  const TernLoginTest        *test);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernAutoconfigServer, tern_autoconfig_server_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernAutoconfigConfig, tern_autoconfig_config_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernAutoconfigAttempt, tern_autoconfig_attempt_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernLoginTest, tern_login_test_free)

G_END_DECLS
