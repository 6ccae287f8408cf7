#ifndef HERALD_CNCURSESW_SHIM_H
#define HERALD_CNCURSESW_SHIM_H

// SwiftPM drops pkg-config's -D flags, and without this the wide-character API
// (cchar_t, wget_wch, waddnwstr) is not declared.
#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif

#include <locale.h>
#include <signal.h>
#include <langinfo.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>
#include <ncursesw/curses.h>
#include <ncursesw/term.h>

// The cells a character takes, as ncurses measures it (wcwidth is declared only for X/Open).
int wcwidth(wchar_t c);
static inline int herald_wcwidth(unsigned int c) { return wcwidth((wchar_t)c); }

// Swift 6 rejects mutable C globals (stdscr, stdout, COLORS); read them through functions.
static inline WINDOW *herald_stdscr(void) { return stdscr; }
static inline int herald_colors(void) { return COLORS; }
static inline int herald_rows(void) { return getmaxy(stdscr); }
static inline int herald_cols(void) { return getmaxx(stdscr); }

// newterm instead of initscr: initscr calls exit(1) itself on a bad TERM.
static inline SCREEN *herald_newterm(void) { return newterm(NULL, stdout, stdin); }

// Probe TERM without side effects: 1 when the terminal can address the cursor.
static inline int herald_terminal_can_address_cursor(void) {
    int status = 0;
    if (setupterm(NULL, fileno(stdout), &status) != OK) return 0;
    char *cup = tigetstr("cup");
    int ok = cup != NULL && cup != (char *)-1;
    del_curterm(cur_term);
    return ok;
}

static inline int herald_locale_is_utf8(void) {
    const char *codeset = nl_langinfo(CODESET);
    return codeset != NULL && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
}

// Mouse reporting: clicks and the wheel (button 4 up, 5 down); the masks are macros.
static inline void herald_mouse_on(void) {
    mousemask(BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(200);
}
static inline int herald_key_mouse(void) { return KEY_MOUSE; }
// 1 click, 2 double click, 4 wheel up, 5 wheel down, 0 other; x and y are set.
static inline int herald_mouse_event(int *x, int *y) {
    MEVENT event;
    if (getmouse(&event) != OK) return 0;
    *x = event.x;
    *y = event.y;
    if (event.bstate & BUTTON1_DOUBLE_CLICKED) return 2;
    if (event.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED)) return 1;
    if (event.bstate & BUTTON4_PRESSED) return 4;
#ifdef BUTTON5_PRESSED
    if (event.bstate & BUTTON5_PRESSED) return 5;
#endif
    return 0;
}

// The A_* attribute macros and COLOR_PAIR are not importable.
static inline attr_t herald_attr_bold(void) { return A_BOLD; }
static inline attr_t herald_attr_dim(void) { return A_DIM; }
static inline attr_t herald_attr_underline(void) { return A_UNDERLINE; }
static inline attr_t herald_attr_reverse(void) { return A_REVERSE; }

// Draw a run of wide characters with one attribute set and colour pair.
static inline int herald_draw(int y, int x, const wchar_t *text, int length, attr_t attrs, int pair) {
    wattr_set(stdscr, attrs, (short)pair, NULL);
    return mvwaddnwstr(stdscr, y, x, text, length);
}

// Unblocks and resets to default the signals the interface relies on.
static inline void herald_unblock_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGWINCH);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    signal(SIGWINCH, SIG_DFL);
}

static inline int herald_key_resize(void) { return KEY_RESIZE; }
static inline int herald_key_code_yes(void) { return KEY_CODE_YES; }

#endif
