/* err.c - names and descriptions for the CT_ERR_MAP table. */
#include "err.h"

const char *ct_err_name(int code)
{
    switch (code) {
    case CT_OK:
        return "CT_OK";
#define CT__ERR_NAME(name, num, text)                                                              \
    case CT_E_##name:                                                                              \
        return "CT_E_" #name;
        CT_ERR_MAP(CT__ERR_NAME)
#undef CT__ERR_NAME
    }
    return "CT_E_UNKNOWN";
}

const char *ct_strerror(int code)
{
    switch (code) {
    case CT_OK:
        return "success";
#define CT__ERR_TEXT(name, num, text)                                                              \
    case CT_E_##name:                                                                              \
        return text;
        CT_ERR_MAP(CT__ERR_TEXT)
#undef CT__ERR_TEXT
    }
    return "unknown error";
}
