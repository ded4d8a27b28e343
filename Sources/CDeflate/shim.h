#ifndef RUNNEL_CDEFLATE_SHIM_H
#define RUNNEL_CDEFLATE_SHIM_H
// libdeflate (Debian libdeflate-dev): whole-buffer gzip, zlib and raw DEFLATE decompression.
#include <libdeflate.h>
#endif
