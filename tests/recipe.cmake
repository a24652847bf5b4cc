# recipe area: build recipes (builder/recipe.c, include/hpcbuild/recipe.h) and `hpcbuild recipe`
# (cli/cmd_recipe.c).  Unit tests are tests/unit/test_recipe.c (unit.recipe).
hb_python_test(recipe.cli recipe_cli.py)
