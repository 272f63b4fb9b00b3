// vhdsm-util's entry point (the dispatch is in dispatch.cc, so that tests
// and the argv fuzz target run the commands in-process).
#include "vhd/util/commands.h"

int main(int argc, char** argv) { return vhdutil::Main(argc, argv); }
