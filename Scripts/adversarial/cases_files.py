"""Bad input files: what `runnel cat` and friends say about lines and streams they cannot read."""
from harness import case


@case("files", "a line that is not JSON")
def not_json(ctx):
    r = ctx.run(["cat"], input=b"{nope\n")
    ctx.expect_exit(r, 65)
    ctx.expect_in("line 1", r.stderr)
