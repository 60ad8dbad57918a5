/* A tiny static `rm`: unlink(argv[1]..argv[n]) and exit 0. No libc. */
static long sys(long n, long a) { long r; __asm__ volatile ("syscall" : "=a"(r) : "a"(n), "D"(a) : "rcx", "r11", "memory"); return r; }
void __attribute__((naked)) _start(void) { __asm__ volatile ("mov %rsp, %rdi\n call start_c\n"); }
void start_c(long *sp) { long argc = sp[0]; char **argv = (char **)(sp + 1); for (long i = 1; i < argc; i++) sys(87, (long)argv[i]); sys(60, 0); }
