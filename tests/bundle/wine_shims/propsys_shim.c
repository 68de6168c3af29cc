/*
 * TEST ONLY, never in the bundle: VariantToString for Wine 8, whose propsys.dll lacks it.
 *
 * CPython's _wmi module (used by the platform module) converts WMI values with
 * propsys!VariantToString; Wine 8 only has a stub that aborts the process. The Wine tests
 * install this DLL as propsys.dll in their own prefix (WINEDLLOVERRIDES=propsys=n) so the
 * bundle's unchanged Python can run. It converts through oleaut32's VariantChangeType.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <oleauto.h>

#define INSUFFICIENT_BUFFER ((HRESULT)0x8007007AL)

__declspec(dllexport) HRESULT WINAPI VariantToString(const VARIANT *in, PWSTR buf, UINT size)
{
    if (!buf || size == 0)
        return E_INVALIDARG;
    buf[0] = 0;
    if (V_VT(in) == VT_EMPTY || V_VT(in) == VT_NULL)
        return S_OK;
    VARIANT text;
    VariantInit(&text);
    HRESULT hr = VariantChangeType(&text, (VARIANT *)in, VARIANT_ALPHABOOL, VT_BSTR);
    if (FAILED(hr))
        return hr;
    UINT length = SysStringLen(V_BSTR(&text));
    UINT n = length < size - 1 ? length : size - 1;
    memcpy(buf, V_BSTR(&text), n * sizeof(WCHAR));
    buf[n] = 0;
    VariantClear(&text);
    return length < size ? S_OK : INSUFFICIENT_BUFFER;
}
