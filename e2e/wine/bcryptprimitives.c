/*
 * TEST ONLY: a stand-in for Windows' bcryptprimitives.dll, for Wine 8 (Debian 12), which lacks
 * it. Go 1.24 and later draw their random numbers from ProcessPrng in bcryptprimitives.dll,
 * which every Windows 10 and 11 has; the runtime loads it from System32 only and aborts at start
 * without it. e2e/wine/prefix.sh builds this file into the System32 of a test Wine prefix.
 * It is never shipped: the installers carry no DLL, and scripts/dist/windows-imports.sh keeps
 * Parley's programs to the DLLs a clean Windows has.
 *
 * ProcessPrng fills data with len random bytes from RtlGenRandom (advapi32's SystemFunction036,
 * which Wine implements), and, like the real one, always succeeds.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG len);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
