/*
 * Maple.exe / Maple-console.exe: start Maple's launcher with the bundle's own Python.
 *
 * The Python lives in the "python" folder beside this executable; nothing is looked up on PATH
 * or in the registry. Built twice by scripts/build_bundle.py with MinGW-w64:
 *   - without MAPLE_CONSOLE (GUI subsystem): runs python\pythonw.exe -m launcher, no console
 *     window; if Python cannot be found or the launcher stops with an error, a message box says so;
 *   - with MAPLE_CONSOLE (console subsystem): runs python\python.exe -m launcher in this console,
 *     for support, waits for it and returns its exit code.
 * The arguments given to this executable are passed on unchanged after "-m launcher".
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <wchar.h>

#ifdef MAPLE_CONSOLE
#define PYTHON_NAME L"python.exe"
#else
#define PYTHON_NAME L"pythonw.exe"
#endif

#define BIG 32768 /* the longest path Windows allows, in characters */

static void report(const wchar_t *text)
{
#ifdef MAPLE_CONSOLE
    DWORD written;
    HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
    if (!WriteConsoleW(err, text, (DWORD)wcslen(text), &written, NULL)) {
        char utf8[4 * 1024];
        int n = WideCharToMultiByte(CP_UTF8, 0, text, -1, utf8, sizeof utf8, NULL, NULL);
        if (n > 1)
            WriteFile(err, utf8, (DWORD)(n - 1), &written, NULL);
    }
    WriteConsoleW(err, L"\r\n", 2, &written, NULL);
#else
    MessageBoxW(NULL, text, L"Maple", MB_OK | MB_ICONERROR);
#endif
}

/* The command line after argv[0], as Windows gave it (quotes kept). */
static const wchar_t *arguments_after_program(const wchar_t *cmd)
{
    int quoted = 0;
    while (*cmd && (quoted || (*cmd != L' ' && *cmd != L'\t'))) {
        if (*cmd == L'"')
            quoted = !quoted;
        cmd++;
    }
    while (*cmd == L' ' || *cmd == L'\t')
        cmd++;
    return cmd;
}

/* This executable's folder, without the trailing backslash. Returns 0 on failure. */
static int own_folder(wchar_t *buf, DWORD size)
{
    DWORD n = GetModuleFileNameW(NULL, buf, size);
    if (n == 0 || n >= size)
        return 0;
    wchar_t *slash = wcsrchr(buf, L'\\');
    if (!slash)
        return 0;
    *slash = 0;
    return 1;
}

static HANDLE start_python(const wchar_t *python)
{
    static wchar_t cmdline[BIG + 64];
    static wchar_t message[BIG + 512];
    const wchar_t *args = arguments_after_program(GetCommandLineW());
    if (_snwprintf(cmdline, BIG + 63, L"\"%ls\" -m launcher %ls", python, args) < 0) {
        report(L"The command line is too long.");
        return NULL;
    }
    cmdline[BIG + 63] = 0;
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    ZeroMemory(&si, sizeof si);
    si.cb = sizeof si;
    ZeroMemory(&pi, sizeof pi);
    if (!CreateProcessW(python, cmdline, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
        _snwprintf(message, BIG + 511,
                   L"Maple could not start its Python:\n%ls\n(Windows error %lu)\n\n"
                   L"Maple 无法启动其自带的 Python。", python, GetLastError());
        message[BIG + 511] = 0;
        report(message);
        return NULL;
    }
    CloseHandle(pi.hThread);
    return pi.hProcess;
}

static int missing_python(const wchar_t *python)
{
    static wchar_t message[BIG + 1024];
    _snwprintf(message, BIG + 1023,
               L"Maple's Python is missing:\n%ls\n\n"
               L"Extract the whole zip first (right-click > Extract All), then start Maple.exe "
               L"from the extracted folder.\n\n"
               L"找不到 Maple 自带的 Python。请先解压整个压缩包（右键 > 全部解压缩），"
               L"再从解压后的文件夹启动 Maple.exe。", python);
    message[BIG + 1023] = 0;
    report(message);
    return 2;
}

static int run(void)
{
    static wchar_t folder[BIG];
    static wchar_t python[BIG];
    if (!own_folder(folder, BIG)) {
        report(L"Maple could not find its own folder.");
        return 2;
    }
    if (_snwprintf(python, BIG - 1, L"%ls\\python\\%ls", folder, PYTHON_NAME) < 0)
        return missing_python(folder);
    python[BIG - 1] = 0;
    if (GetFileAttributesW(python) == INVALID_FILE_ATTRIBUTES)
        return missing_python(python);
#ifdef MAPLE_CONSOLE
    /* Ctrl+C goes to the launcher in this console; this process only waits for it. */
    SetConsoleCtrlHandler(NULL, TRUE);
#endif
    HANDLE process = start_python(python);
    if (!process)
        return 2;
    WaitForSingleObject(process, INFINITE);
    DWORD code = 1;
    GetExitCodeProcess(process, &code);
    CloseHandle(process);
#ifndef MAPLE_CONSOLE
    if (code != 0) {
        static wchar_t message[1024];
        _snwprintf(message, 1023,
                   L"Maple stopped with an error (exit code %lu).\n\n"
                   L"Its log is data\\logs\\launcher.log beside Maple.exe; Maple-console.exe shows "
                   L"the messages as they happen.\n\n"
                   L"Maple 因错误退出。日志见 data\\logs\\launcher.log；用 Maple-console.exe 启动可看到详细信息。",
                   code);
        message[1023] = 0;
        report(message);
    }
#endif
    return (int)code;
}

#ifdef MAPLE_CONSOLE
int wmain(void)
{
    return run();
}
#else
int WINAPI wWinMain(HINSTANCE instance, HINSTANCE previous, PWSTR cmd, int show)
{
    (void)instance;
    (void)previous;
    (void)cmd;
    (void)show;
    return run();
}
#endif
