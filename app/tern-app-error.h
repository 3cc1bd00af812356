/* tern-app-error.h: the engine's error domain.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TERN_APP_ERROR (tern_app_error_quark ())

typedef enum {
  TERN_APP_ERROR_FAILED,           /* anything else                              */
  TERN_APP_ERROR_STORE,            /* SQLite refused; the message says why       */
  TERN_APP_ERROR_STORE_TOO_NEW,    /* the profile was written by a newer Tern    */
  TERN_APP_ERROR_NOT_FOUND,        /* no such account, folder, message           */
  TERN_APP_ERROR_INVALID,          /* a setting the user gave does not parse     */
  TERN_APP_ERROR_NO_PASSWORD,      /* neither the keyring nor a command has one  */
  TERN_APP_ERROR_PASSWORD_COMMAND, /* the user's password command failed         */
  TERN_APP_ERROR_SECRET_SERVICE,   /* the keyring is unavailable or refused      */
  TERN_APP_ERROR_OFFLINE,          /* "Work Offline" is on: no connection tried  */
  TERN_APP_ERROR_DISK_FULL,        /* the profile's disk has no room to write    */
} TernAppError;

GQuark tern_app_error_quark (void);

G_END_DECLS
