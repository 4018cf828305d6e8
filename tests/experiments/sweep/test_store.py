"""The results store on its own: a chunk written is found sound, a wrong row count is refused,
clearing removes the store's files and the named derived files and nothing else, strays are
named, and Parquet metadata round-trips."""

import pandas as pd
import pytest

from experiments.errors import UserError
from experiments.sweep.design import Design
from experiments.sweep.integrity import checksum_path
from experiments.sweep.store import ResultStore, read_metadata, table_bytes


@pytest.fixture
def store(smoke, tmp_path):
    store = ResultStore(tmp_path / "out")
    store.prepare(Design(smoke), {"model_fingerprint": "abc", "experiment": smoke.as_dict()})
    return store


def rows_of(design, chunk):
    table = design.run_table(chunk)
    return table.assign(tests=table["replicate"] % 3)


def test_a_written_chunk_is_sound_and_loads(smoke, store):
    design = Design(smoke)
    chunk = design.chunks()[1]
    assert not store.is_done(chunk)
    path = store.write_chunk(
        chunk, rows_of(design, chunk), {"config_hash": smoke.config_hash(), "model_fingerprint": "abc"}
    )
    assert checksum_path(path).is_file() and store.is_done(chunk)
    loaded = store.load(["tests"])
    assert loaded["run"].tolist() == list(range(chunk.start, chunk.stop))
    assert loaded["tests"].tolist() == (rows_of(design, chunk)["tests"]).tolist()


def test_a_chunk_of_the_wrong_length_is_never_written(smoke, store):
    design = Design(smoke)
    chunk = design.chunks()[0]
    with pytest.raises(ValueError, match="expected 50"):
        store.write_chunk(chunk, rows_of(design, chunk).iloc[:-1], {})
    assert not store.chunk_path(chunk).exists()


def test_clear_removes_the_stores_files_and_the_named_derived_files_only(smoke, store):
    design = Design(smoke)
    chunk = design.chunks()[0]
    store.write_chunk(chunk, rows_of(design, chunk), {"config_hash": smoke.config_hash(), "model_fingerprint": "abc"})
    (store.directory / "summary.csv").write_text("x\n")
    (store.directory / "notes.txt").write_text("mine\n")
    store.clear(derived=["summary.csv"])
    assert sorted(p.name for p in store.directory.iterdir()) == ["notes.txt"]
    with pytest.raises(ValueError, match="plain names"):
        store.clear(derived=["../elsewhere.csv"])


def test_a_non_results_directory_is_refused_and_strays_are_named(smoke, store, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "thesis.tex").write_text("\\begin{document}")
    with pytest.raises(UserError, match="not a results directory"):
        ResultStore(other).prepare(Design(smoke), {"model_fingerprint": "abc", "experiment": smoke.as_dict()})
    (store.chunk_dir / "chunk-0000000000-0000000050 (1).parquet").write_bytes(b"")
    assert [p.name for p in store.stray_files()] == ["chunk-0000000000-0000000050 (1).parquet"]
    with pytest.raises(UserError, match=r"\(1\).parquet was not written by this sweep"):
        store.refuse_strays()


def test_parquet_metadata_round_trips(tmp_path):
    path = tmp_path / "t.parquet"
    path.write_bytes(table_bytes(pd.DataFrame({"a": [1, 2]}), {"config_hash": "x", "n": [1, 2]}))
    assert read_metadata(path) == {"config_hash": "x", "n": [1, 2]}
    assert pd.read_parquet(path)["a"].tolist() == [1, 2]
