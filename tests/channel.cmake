# Channels from recipes (cli/channel_*.c, `hpcbuild channel build`): local executor.
hb_python_test(channel.build channel_build.py)
