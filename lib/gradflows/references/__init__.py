"""Independent references: what the book's claims checks compare the library against.

Each module here computes a quantity by a different method from the kernel it checks
(quadrature, a finite-difference or finite-element solve, an exact chain, a closed form,
a scipy optimizer) and imports nothing from the rest of :mod:`gradflows` except argument
validation and device helpers, so that an error in a kernel cannot repeat itself in its
reference (a policy test enforces this).
"""
