# The nested lab (lab.bash), booted once for every lab test file that bats
# runs, whether the whole directory or one file: a boot takes over a minute.

setup_suite() {
    load lab
    lab_setup_suite
}

# In the shell setup_suite ran in, with the cleanups lab_boot registered.
teardown_suite() { lab_teardown_suite; }
