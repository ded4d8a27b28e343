#ifndef RUNNEL_CZSTD_SHIM_H
#define RUNNEL_CZSTD_SHIM_H
// ZSTD_getFrameHeader and ZSTD_frameHeader (exported by the shared library; declared only here).
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>
#endif
