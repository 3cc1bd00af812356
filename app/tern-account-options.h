/* tern-account-options.h: the options column of an account's row.
 *
 * accounts.options is GKeyFile text with a group per concern ([pop3],
 * [outbox], ...).  Each concern loads the key file, reads or sets its own
 * group and saves it whole, so the other groups are kept.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-store.h"

G_BEGIN_DECLS

/* The account's options (empty when it has none); NULL with
 * TERN_APP_ERROR_NOT_FOUND when there is no account @account_id. */
GKeyFile *tern_account_options_load        (TernStore   *store,
                                            gint64       account_id,
                                            GError     **error);
/* Replaces the account's options with @key_file.  Read and save are two
 * transactions: options are only changed from the main thread. */
gboolean  tern_account_options_save        (TernStore   *store,
                                            gint64       account_id,
                                            GKeyFile    *key_file,
                                            GError     **error);
/* @key in @group, or @fallback when it is missing or not a boolean. */
gboolean  tern_account_options_get_boolean (GKeyFile    *key_file,
                                            const char  *group,
                                            const char  *key,
                                            gboolean     fallback);
/* @key in @group, or @fallback when it is missing or not an integer. */
int       tern_account_options_get_integer (GKeyFile    *key_file,
                                            const char  *group,
                                            const char  *key,
                                            int          fallback);

/* [sync]: what the engine fetches and how often it looks for new mail. */
#define TERN_ACCOUNT_OPTIONS_SYNC                  "sync"
#define TERN_ACCOUNT_OPTIONS_PREFETCH_DAYS         "prefetch-days"
#define TERN_ACCOUNT_OPTIONS_CHECK_MINUTES         "check-interval"
#define TERN_ACCOUNT_OPTIONS_DEFAULT_PREFETCH_DAYS 30
#define TERN_ACCOUNT_OPTIONS_DEFAULT_CHECK_MINUTES 1

/* [composing] signature: the text below "-- " in the account's messages;
 * NULL (without error) when it has none. */
char     *tern_account_options_get_signature (TernStore   *store,
                                              gint64       account_id,
                                              GError     **error);
/* @signature NULL or empty: none. */
gboolean  tern_account_options_set_signature (TernStore   *store,
                                              gint64       account_id,
                                              const char  *signature,
                                              GError     **error);
/* Loads, sets @key in @group and saves, keeping the other groups. */
gboolean  tern_account_options_set_integer   (TernStore   *store,
                                              gint64       account_id,
                                              const char  *group,
                                              const char  *key,
                                              int          value,
                                              GError     **error);

G_END_DECLS
