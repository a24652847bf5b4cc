hb_python_test(elf.readelf elf_readelf.py)
