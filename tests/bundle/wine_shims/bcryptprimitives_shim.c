/*
 * TEST ONLY, never in the bundle: ProcessPrng for Wine 8, which has no bcryptprimitives.dll.
 *
 * Rust's standard library (pydantic_core is built with it) takes its random bytes from
 * bcryptprimitives!ProcessPrng, present on every Windows 10 and 11. The Wine tests install this
 * DLL in their own prefix; it fills the buffer from bcrypt's system RNG.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
