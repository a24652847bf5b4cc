import hpc_ring


def main():
    print("hpc-report: hpc-ring is linked against " + hpc_ring.library().splitlines()[0].strip())
