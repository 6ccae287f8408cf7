#ifndef HERALD_CSQLITESETUP_SHIM_H
#define HERALD_CSQLITESETUP_SHIM_H

#include <sqlite3.h>

// sqlite3_config is variadic, which Swift cannot call: fixed-argument wrappers for the
// process-wide settings Herald makes before its first connection opens.

// Turns off SQLite's allocation statistics. With them on, every allocation and free of every
// connection takes one process-wide mutex; the delivery worker's two threads (one claiming and
// recording, one reading the recipients' values) then spend much of their time waiting on it.
// Returns SQLITE_MISUSE once SQLite has been initialised (the setting is then left as it is).
static inline int herald_sqlite3_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

#endif
