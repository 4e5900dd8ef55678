import dataclasses

import pytest
import torch.nn as nn

import dcnn_lib as dl
from dcnn_lib import registry
from dcnn_lib.registry import Figure


@pytest.fixture
def scratch_registry(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


def test_lists_the_lenets_by_task():
    assert {"lenet5", "lenet5_relu"} <= set(dl.models.list_models())
    assert "lenet5" in dl.models.list_models(task="classification")
    assert "lenet5" not in dl.models.list_models(task="detection")
    assert dl.models.list_models() == sorted(dl.models.list_models())


def test_unknown_task_is_rejected():
    with pytest.raises(ValueError, match="task must be one of"):
        dl.models.list_models(task="regression")


def test_unknown_name_lists_the_closest_names():
    with pytest.raises(KeyError) as err:
        dl.models.get("lenet")
    assert "unknown model 'lenet'" in str(err.value)
    assert "lenet5" in str(err.value) and "lenet5_relu" in str(err.value)
    with pytest.raises(ValueError):  # also a ValueError, for callers that catch that
        dl.models.meta("lenett5")


def test_duplicate_name_raises(scratch_registry):
    @dl.register_model(task="classification", paper="p", year=2000, input_size=(1, 8, 8))
    def tiny_for_test() -> nn.Module:
        return nn.Identity()

    with pytest.raises(ValueError, match="already registered"):
        @dl.register_model("tiny_for_test", task="classification", paper="p", year=2000, input_size=(1, 8, 8))
        def other() -> nn.Module:
            return nn.Identity()


def test_register_validates_task_and_input_size(scratch_registry):
    with pytest.raises(ValueError, match="task"):
        dl.register_model(task="cls", paper="p", year=1, input_size=(1, 2, 2))
    with pytest.raises(ValueError, match="input_size"):
        dl.register_model(task="classification", paper="p", year=1, input_size=(2, 2))


def test_get_without_overrides_builds_the_paper_configuration():
    model = dl.models.get("lenet5")
    assert model.num_classes == 10
    assert dl.models.get("lenet5", num_classes=3).num_classes == 3


def test_unknown_override_names_the_accepted_ones():
    with pytest.raises(TypeError, match=r"takes no argument 'classes'.*num_classes"):
        dl.models.get("lenet5", classes=3)


def test_meta_carries_paper_facts():
    m = dl.models.meta("lenet5")
    assert m.year == 1998 and m.input_size == (1, 32, 32) and m.task == "classification"
    assert m.published.params == Figure(60_000, "paper, §II-B")
    assert m.test.torchvision is None and m.test_input_size == (1, 32, 32)
    assert m.defaults == {"num_classes": 10, "in_channels": 1}
    with pytest.raises(dataclasses.FrozenInstanceError):   # the registry's own object: read-only
        m.published.params = None
    with pytest.raises(TypeError):
        m.published.other["connections"] = Figure(0, "x")
    plain = m.as_dict()
    assert plain["published"]["params"] == {"value": 60_000, "source": "paper, §II-B", "note": ""}
    assert plain["published"]["other"]["connections"]["value"] == 340_908


@pytest.mark.parametrize("name", dl.models.list_models())
def test_every_model_is_a_named_builder_of_its_module(name):
    import importlib
    import inspect

    builder = dl.models.meta(name).builder
    module = importlib.import_module(builder.__module__)
    assert module.__name__.startswith("dcnn_lib.models.")        # its family's module
    assert builder.__name__ == name and getattr(module, name) is builder       # grep finds `def name(`
    assert f"\ndef {name}(" in inspect.getsource(module)


def test_meta_views_are_typed_and_the_same_keys_for_every_model():
    for name in dl.models.list_models():
        m = dl.models.meta(name)
        assert isinstance(m, dl.models.ModelMeta)
        plain = m.as_dict()
        assert set(plain) == {"name", "task", "paper", "year", "input_size", "description", "published", "test",
                              "defaults"}
        assert set(plain["published"]) == {"params", "gmacs", "top1", "top5", "other"}
        assert all(f["source"] for f in plain["published"]["other"].values())


def test_published_figures_need_a_source_and_an_exact_parameter_count():
    with pytest.raises(ValueError, match="needs its source"):
        Figure(1.0, "")
    with pytest.raises(TypeError, match="exact int count"):
        dl.models.Published(params=Figure(1.5e6, "paper"))
    with pytest.raises(ValueError, match="snake_case"):
        dl.models.Published(other={"Top-1": Figure(70.0, "paper")})
    with pytest.raises(TypeError, match="published must be a Published"):
        dl.register_model(task="classification", paper="p", year=1, input_size=(1, 2, 2), published={"params": 1})
