/* libxml2's HTML parser in SAX mode with callbacks that only count: the floor of runnel parse's
 * tree building (Scripts/bench-parse-speed). Reads the files named on the command line, parses
 * each with the options runnel uses, and prints the CPU seconds the parses took. */
#include <libxml/HTMLparser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long events;
static void start_element(void *context, const xmlChar *name, const xmlChar **attributes) {
    (void)context; (void)name;
    events++;
    if (attributes) for (; *attributes; attributes++) events++;
}
static void characters(void *context, const xmlChar *text, int length) { (void)context; (void)text; events += length; }

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    xmlInitParser();
    double total = 0;
    for (int i = 1; i < argc; i++) {
        FILE *file = fopen(argv[i], "rb");
        if (!file) { perror(argv[i]); return 1; }
        fseek(file, 0, SEEK_END);
        long length = ftell(file);
        fseek(file, 0, SEEK_SET);
        char *bytes = malloc(length > 0 ? length : 1);
        if (fread(bytes, 1, length, file) != (size_t)length) { perror(argv[i]); return 1; }
        fclose(file);
        double start = cpu_now();
        htmlParserCtxtPtr context = htmlNewParserCtxt();
        htmlSAXHandler sax;
        memset(&sax, 0, sizeof sax);
        sax.startElement = start_element;
        sax.characters = characters;
        sax.ignorableWhitespace = characters;
        *context->sax = sax;
        htmlDocPtr document = htmlCtxtReadMemory(context, bytes, (int)length, NULL, "UTF-8",
            HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET | HTML_PARSE_COMPACT);
        if (document) xmlFreeDoc(document);
        htmlFreeParserCtxt(context);
        total += cpu_now() - start;
        free(bytes);
    }
    printf("%.6f %ld\n", total, events);
    return 0;
}
