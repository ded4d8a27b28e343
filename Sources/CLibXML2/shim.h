#ifndef RUNNEL_CLIBXML2_SHIM_H
#define RUNNEL_CLIBXML2_SHIM_H
// Debian's libxml2 is built with ICU, and its headers then pull in ICU types that clash with the
// ones Foundation brings (`'UErrorCode' has different definitions`). The parse stage uses none of
// libxml2's ICU API, so hide it before the other headers see the flag.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#endif
