/* a stand-in: site detection only checks that a CUDA home has this header */
