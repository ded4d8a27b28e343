#ifndef RUNNEL_CZSTD_SHIM_H
#define RUNNEL_CZSTD_SHIM_H
#include <zstd.h>
#include <zstd_errors.h>
#endif
