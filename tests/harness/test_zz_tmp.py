def test_x(request):
    c = request.config
    print("OVR", c.option.override_ini, c.getini("addopts"), c.invocation_params.args, getattr(c, "_override_ini", None))
