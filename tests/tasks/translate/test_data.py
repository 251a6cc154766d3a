"""Reading pairs (tables, aligned files, Tatoeba TSV, Multi30K) and per-side tokenisation."""

from __future__ import annotations

import gzip
import json

import pytest

from rnnlab.errors import ConfigError, DataError
from rnnlab.tasks.translate.config import TranslateDataConfig
from rnnlab.tasks.translate.data import (
    EOS,
    JOINER,
    SideTokenizer,
    build_vocab,
    load_translate_splits,
    read_multi30k,
    read_pairs,
)

from .conftest import multi30k_lines


# ---------------------------------------------------------------- tokenisation
def test_german_and_french_letters_are_letters():
    tok = SideTokenizer("word")
    assert tok("Straße, Bär und œuvre é") == ["Straße", JOINER + ",", "Bär", "und", "œuvre", "é"]
    assert SideTokenizer("english")("L'Œuvre d'été") == ["l'œuvre", "d'été"]


@pytest.mark.parametrize("lang", ["de", "en", "fr"])
def test_word_tokens_detokenise_to_the_exact_text(lang):
    tok = SideTokenizer("word")
    for line in multi30k_lines("val", lang, 300):
        text = " ".join(line.split())
        assert tok.detokenize(tok(text)) == text


def test_chinese_and_character_tokens_detokenise():
    zh = SideTokenizer("chinese")
    text = "我们在北京学习 Python 语言。"
    assert zh.detokenize(zh(text)) == text
    assert zh.bleu_tokenize == "zh"
    char = SideTokenizer("char")
    assert char.detokenize(char("a  dog")) == "a dog"


def test_auto_picks_chinese_for_chinese_text():
    assert SideTokenizer.resolve("auto", ["我们在北京学习"], False).name == "chinese"
    assert SideTokenizer.resolve("auto", ["Ein Hund"], False).name == "word"


def test_target_vocabulary_puts_eos_after_the_specials():
    vocab = build_vocab([["a", "b", "a"], ["</s>", "c"]], 10, 1)
    assert vocab.itos[:5] == ("<pad>", "<sos>", "<unk>", EOS, "a")
    assert vocab.itos.count(EOS) == 1


# ---------------------------------------------------------------- reading
DATA = TranslateDataConfig()


def test_aligned_files_with_gzip(subset_files):
    pairs = read_pairs(str(subset_files["train.de"]), DATA, str(subset_files["train.en"]))
    assert len(pairs) == 2000
    assert pairs.sources[0] == multi30k_lines("train", "de", 1)[0]
    assert pairs.targets[0] == multi30k_lines("train", "en", 1)[0]


def test_line_count_mismatch_names_both_files(tmp_path):
    (tmp_path / "a.de").write_text("eins\nzwei\n", encoding="utf-8")
    (tmp_path / "a.en").write_text("one\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"a\.en: 1 lines, but .*a\.de has 2"):
        read_pairs(str(tmp_path / "a.de"), DATA, str(tmp_path / "a.en"))


def test_empty_pair_names_the_line(tmp_path):
    (tmp_path / "a.de").write_text("eins\n\ndrei\n", encoding="utf-8")
    (tmp_path / "a.en").write_text("one\ntwo\nthree\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 2: empty source sentence"):
        read_pairs(str(tmp_path / "a.de"), DATA, str(tmp_path / "a.en"))


def test_tables_of_every_format(tmp_path):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"de": ["Ein Hund.", "Eine Katze."], "en": ["A dog.", "A cat."]})
    data = TranslateDataConfig(source_col="de", target_col="en")
    frame.to_csv(tmp_path / "p.csv", index=False)
    frame.to_csv(tmp_path / "p.tsv", index=False, sep="\t")
    frame.to_parquet(tmp_path / "p.parquet")
    (tmp_path / "p.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in frame.to_dict("records")),
        encoding="utf-8",
    )
    for suffix in ("csv", "tsv", "parquet", "jsonl"):
        pairs = read_pairs(str(tmp_path / f"p.{suffix}"), data)
        assert pairs.sources == ["Ein Hund.", "Eine Katze."], suffix
        assert pairs.targets == ["A dog.", "A cat."], suffix


def test_missing_column_names_the_columns_there_are(tmp_path):
    (tmp_path / "p.csv").write_text("de,en\nEin Hund.,A dog.\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        read_pairs(str(tmp_path / "p.csv"), DATA)
    message = str(caught.value)
    assert "'source'" in message and "'de', 'en'" in message and "--source-col" in message


def test_tatoeba_tsv_without_header(tmp_path):
    (tmp_path / "t.tsv").write_text(
        'Go.\tGeh.\tCC-BY 2.0 (France)\n"Hi," he said.\t„Hallo“, sagte er.\tCC\n',
        encoding="utf-8",
    )
    pairs = read_pairs(str(tmp_path / "t.tsv"), TranslateDataConfig(header=False))
    assert pairs.sources == ["Go.", '"Hi," he said.']
    assert pairs.targets == ["Geh.", "„Hallo“, sagte er."]
    (tmp_path / "bad.tsv").write_text("Go.\tGeh.\nonly one field\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 2: 1 field"):
        read_pairs(str(tmp_path / "bad.tsv"), TranslateDataConfig(header=False))


def test_a_text_file_without_its_target_side_is_refused(tmp_path):
    (tmp_path / "a.de").write_text("eins\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="--target-data"):
        read_pairs(str(tmp_path / "a.de"), DATA)


# ---------------------------------------------------------------- Multi30K
def test_multi30k_from_the_directory_the_environment_names(multi30k_dir, monkeypatch):
    monkeypatch.setenv("RNNLAB_MULTI30K", str(multi30k_dir))
    splits = load_translate_splits(TranslateDataConfig(data="multi30k", source_lang="de",
                                                       target_lang="en"), 0)  # fmt: skip
    assert (len(splits.train), len(splits.valid), len(splits.test)) == (29000, 1014, 1000)
    assert splits.test.sources[0] == multi30k_lines("test_2016_flickr", "de", 1)[0]


def test_multi30k_is_fetched_once_and_checked(multi30k_dir, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("RNNLAB_MULTI30K", str(cache))
    monkeypatch.setenv("RNNLAB_MULTI30K_URL", multi30k_dir.as_uri())
    pairs = read_multi30k("valid", "fr", "en")
    assert len(pairs) == 1014 and (cache / "val.fr.gz").is_file()
    # a mirror whose file differs is refused and nothing is kept
    bad = tmp_path / "mirror"
    bad.mkdir()
    (bad / "test_2016_flickr.de.gz").write_bytes(gzip.compress(b"nicht das\n"))
    monkeypatch.setenv("RNNLAB_MULTI30K_URL", bad.as_uri())
    with pytest.raises(DataError, match="SHA-256"):
        read_multi30k("test", "de", "en")
    assert not (cache / "test_2016_flickr.de.gz").exists()


def test_unknown_language_is_refused():
    with pytest.raises(ConfigError, match="--source-lang 'cs'"):
        read_multi30k("valid", "cs", "en")


@pytest.mark.parametrize("kind", ["bpe", "unigram"])
def test_subword_units_are_learnt_per_side_and_detokenise(kind):
    pytest.importorskip("sentencepiece", reason="subword units need sentencepiece")
    lines = multi30k_lines("train", "de", 3000)
    tok = SideTokenizer.resolve(kind, lines, False, 1000)
    again = SideTokenizer.from_dict(json.loads(json.dumps(tok.to_dict())))
    for line in multi30k_lines("val", "de", 200):
        text = " ".join(line.split())
        pieces = tok(text)
        assert again(text) == pieces
        assert tok.detokenize(pieces) == text
    assert len({p for line in lines[:500] for p in tok(line)}) <= 1000
    zh = SideTokenizer.resolve(kind, ["我们在北京学习中文。", "他们在上海工作。"] * 20, False, 40)
    assert zh.bleu_tokenize == "zh"
