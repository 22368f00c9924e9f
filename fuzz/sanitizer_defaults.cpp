// Default runtime options of the sanitizers for every binary of the fuzz/ build (fuzz
// targets and sportsmed_san_tests). The runtimes call these hooks at start-up; options in
// ASAN_OPTIONS / UBSAN_OPTIONS / LSAN_OPTIONS are applied after them and win.

extern "C" {

// Leak checking stays on (detect_leaks=1 is ASan's default on Linux x86-64; said here so
// nobody turns it off by accident).
const char* __asan_default_options() {
    return "detect_leaks=1:strict_string_checks=1:"
           "detect_stack_use_after_return=1:check_initialization_order=1";
}

// -fno-sanitize-recover=all already makes every UBSan report fatal; the stack says where.
const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }

}  // extern "C"
