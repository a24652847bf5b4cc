from hpc_ring._ring import library
