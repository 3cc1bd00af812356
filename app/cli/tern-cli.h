/* tern-cli.h: what the files of tern-cli share.
 *
 * Each group of commands (account, certificate, later sync and mail) lives
 * in a file of its own and exports its table; tern-cli.c dispatches.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib/gi18n.h>

#include "tern-autoconfig.h"
#include "tern-context.h"

G_BEGIN_DECLS

#define EXIT_USAGE 2

typedef struct
{
  char *profile_dir;
  char *ca_file;
} GlobalOptions;

typedef int (*CommandFunc) (GlobalOptions *globals,
                            int            argc,
                            char         **argv);

typedef struct
{
  const char *name;
  CommandFunc func;
  const char *summary;
} Command;

typedef struct
{
  const Command *commands;
  gsize          n_commands;
} CommandGroup;

int          tern_cli_fail         (GError          *error);
int          tern_cli_usage_error  (GOptionContext  *context,
                                    const char      *message);
TernContext *tern_cli_open_context (GlobalOptions   *globals,
                                    GError         **error);
/* The account --account names (by id, UUID or address), or the only IMAP
 * account there is.  Returns a reference. */
TernAccount *tern_cli_pick_imap_account (TernContext  *tern,
                                         const char   *key,
                                         GError      **error);
int          tern_cli_dispatch     (const Command   *commands,
                                    gsize            n_commands,
                                    const char      *group,
                                    GlobalOptions   *globals,
                                    int              argc,
                                    char           **argv);

/* tern-cli-account.c */
int          tern_cli_account      (GlobalOptions   *globals,
                                    int              argc,
                                    char           **argv);
int          tern_cli_certificate  (GlobalOptions   *globals,
                                    int              argc,
                                    char           **argv);

/* tern-cli-autoconfig.c */
int          tern_cli_autoconfig   (GlobalOptions   *globals,
                                    int              argc,
                                    char           **argv);
/* A detector with the global CA file, the test-only address map entries
 * (FROM=TO) and provider directory. */
TernAutoconfig       *tern_cli_autoconfig_new     (GlobalOptions   *globals,
                                                   char           **maps,
                                                   const char      *providers_dir,
                                                   GError         **error);
TernAutoconfigConfig *tern_cli_autoconfig_detect  (TernAutoconfig  *autoconfig,
                                                   const char      *address,
                                                   GError         **error);
TernAccount          *tern_cli_autoconfig_account (TernAutoconfig  *autoconfig,
                                                   TernContext     *tern,
                                                   const char      *name,
                                                   const char      *address,
                                                   const char      *password,
                                                   gboolean         accept_insecure,
                                                   GError         **error);

/* tern-cli-mail.c */
int          tern_cli_sync         (GlobalOptions   *globals,
                                    int              argc,
                                    char           **argv);
int          tern_cli_folders      (GlobalOptions   *globals,
                                    int              argc,
                                    char           **argv);
int          tern_cli_list         (GlobalOptions   *globals,
                                    int              argc,
                                    char           **argv);
int          tern_cli_show         (GlobalOptions   *globals,
                                    int              argc,
                                    char           **argv);

/* tern-cli-ops.c */
int          tern_cli_flag         (GlobalOptions   *globals,
                                    int              argc,
                                    char           **argv);
int          tern_cli_move         (GlobalOptions   *globals,
                                    int              argc,
                                    char           **argv);
int          tern_cli_delete       (GlobalOptions   *globals,
                                    int              argc,
                                    char           **argv);
int          tern_cli_idle         (GlobalOptions   *globals,
                                    int              argc,
                                    char           **argv);

/* tern-cli-identity.c */
int          tern_cli_identity     (GlobalOptions   *globals,
                                    int              argc,
                                    char           **argv);

/* tern-cli-send.c */
int          tern_cli_send         (GlobalOptions   *globals,
                                    int              argc,
                                    char           **argv);
int          tern_cli_outbox       (GlobalOptions   *globals,
                                    int              argc,
                                    char           **argv);
/* The account --account names, or the only one that can send.  Returns a
 * reference. */
TernAccount *tern_cli_pick_sending_account (TernContext  *tern,
                                            const char   *key,
                                            GError      **error);
/* The file @path, or standard input for NULL or "-". */
GBytes      *tern_cli_read_file    (const char      *path,
                                    GError         **error);
/* Queues @message (RFC 5322) in the outbox, sends what is due and prints
 * the message's row; returns the exit status. */
int          tern_cli_send_message (TernContext     *tern,
                                    TernAccount     *account,
                                    GBytes          *message);

/* tern-cli-compose.c */
int          tern_cli_compose      (GlobalOptions   *globals,
                                    int              argc,
                                    char           **argv);

/* tern-cli-search.c */
int          tern_cli_search       (GlobalOptions   *globals,
                                    int              argc,
                                    char           **argv);

G_END_DECLS
