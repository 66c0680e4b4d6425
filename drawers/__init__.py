"""Independent drawers of test pictures: programs that share no code with ``ecgplot``
(they import nothing from it), so the digitiser is judged on prints it did not draw.
Tests, tools and benchmarks import them from here by design."""
