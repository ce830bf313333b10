#!/usr/bin/python3
# Writes the .npy fixtures that tests/io/test-npy.c reads, with NumPy's own
# numpy.save, so the test checks our reader against the real writer without
# NumPy being a test dependency. Run by hand from the top folder:
#   /usr/bin/python3 tools/make-npy-fixture.py
# (made with NumPy 1.24.2). The values are repeated in test-npy.c.
import numpy as np

f32 = np.array([[0.0, 1.0, -2.5, 0.1],
                [3.4028235e38, -1e-45, 1.17549435e-38, 65504.0],
                [-0.0, 123456.789, 1e-7, -7.0]], dtype='<f4')   # (3, 4)
i32 = np.array([-2147483648, -1, 0, 7, 2147483647], dtype='<i4')  # (5,)
np.save('tests/fixtures/npy-f32-3x4.npy', f32)
np.save('tests/fixtures/npy-i32-5.npy', i32)
