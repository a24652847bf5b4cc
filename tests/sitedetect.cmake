# sitedetect area: `hpcbuild site detect|show` (builder/site_detect*.c, builder/site_write.c,
# cli/cmd_site.c, include/hpcbuild/site_detect.h).  The unit test is tests/unit/test_site_detect.c
# (auto-registered as unit.site_detect); the fake tools it and site.detect use are in tests/fake/.

hb_python_test(site.detect site_detect.py)
