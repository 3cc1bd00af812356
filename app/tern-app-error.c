/* tern-app-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tern-app-error.h"

G_DEFINE_QUARK (tern-app-error-quark, tern_app_error)
