"""Tagged-file readers: CoNLL columns, word/tag lines, CoNLL-U; errors name file and line."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from rnnlab.data.conll import read_tagged
from rnnlab.errors import DataError, RnnlabFileNotFoundError


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


CONLL2003 = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
\t
-DOCSTART- -X- -X- O
BRUSSELS NNP B-NP B-LOC
"""


def test_conll_columns_docstart_and_blank_lines(tmp_path):
    data = read_tagged(write(tmp_path, "a.conll", CONLL2003))
    assert data.tokens == [["EU", "rejects", "German"], ["Peter", "Blackburn"], ["BRUSSELS"]]
    assert data.tags == [["B-ORG", "O", "B-MISC"], ["B-PER", "I-PER"], ["B-LOC"]]
    assert data.lines == [3, 7, 11]
    assert data.source.endswith("a.conll") and data.num_tokens == 6


def test_conll_column_choice_by_index(tmp_path):
    path = write(tmp_path, "a.conll", CONLL2003)
    data = read_tagged(path, token_col=1, tag_col=2)  # POS as tokens, chunks as tags
    assert data.tokens[0] == ["NNP", "VBZ", "JJ"] and data.tags[0] == ["B-NP", "B-VP", "B-NP"]
    with pytest.raises(DataError, match=r"a\.conll line 3: tag_col 4 is out of range for a line"):
        read_tagged(path, tag_col=4)


def test_tab_separated_tokens_may_hold_spaces(tmp_path):
    data = read_tagged(write(tmp_path, "t.tsv", "New York\tB-LOC\nis\tO\n"))
    assert data.tokens == [["New York", "is"]]


def test_wrong_column_count_names_file_and_line(tmp_path):
    path = write(tmp_path, "bad.conll", "EU NNP B-ORG\nrejects O\n")
    with pytest.raises(
        DataError,
        match=r"bad\.conll line 2: expected 3 columns as on line 1, got 2 \('rejects O'\)",
    ):
        read_tagged(path)


def test_one_column_is_not_a_tagged_file(tmp_path):
    path = write(tmp_path, "one.conll", "EU\nrejects\n")
    with pytest.raises(DataError, match=r"one\.conll line 1: expected a token and a tag column"):
        read_tagged(path)


def test_empty_file_and_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"empty\.conll holds no tagged sentences"):
        read_tagged(write(tmp_path, "empty.conll", "\n\n-DOCSTART- O\n\n"))
    with pytest.raises(RnnlabFileNotFoundError, match=r"nowhere\.conll does not exist"):
        read_tagged(tmp_path / "nowhere.conll")


def test_bytes_that_are_not_utf8_name_the_line(tmp_path):
    path = tmp_path / "latin.conll"
    path.write_bytes(b"EU B-ORG\n\nM\xfcnchen B-LOC\n")
    with pytest.raises(DataError, match=r"latin\.conll line 3: bytes that are not UTF-8"):
        read_tagged(path)


def test_stray_i_tags_are_repaired_with_one_warning_naming_lines(tmp_path):
    path = write(tmp_path, "iob1.conll", "EU I-ORG\nrejects O\nGerman I-MISC\n\nx O\ny I-PER\n")
    with pytest.warns(
        UserWarning,
        match=r"iob1\.conll: 3 I- tag\(s\) continue no entity \(line 1, line 3, line 6\)",
    ):
        data = read_tagged(path)
    assert data.tags == [["B-ORG", "O", "B-MISC"], ["O", "B-PER"]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_tagged(path, repair=False).tags[0] == ["I-ORG", "O", "I-MISC"]


def test_wordtag_lines(tmp_path):
    path = write(tmp_path, "pd.txt", "迈向/v  充满/v  希望/n\n\n江/nr  泽民/nr  1/2/m\n")
    data = read_tagged(path, "wordtag")
    assert data.tokens == [["迈向", "充满", "希望"], ["江", "泽民", "1/2"]]
    assert data.tags == [["v", "v", "n"], ["nr", "nr", "m"]]
    assert data.lines == [1, 3]


@pytest.mark.parametrize("item", ["word", "/n", "word/"])
def test_wordtag_item_without_word_or_tag(tmp_path, item):
    path = write(tmp_path, "pd.txt", f"迈向/v\n充满/v {item}\n")
    with pytest.raises(DataError, match=rf"pd\.txt line 2: '{item}' is not word/tag"):
        read_tagged(path, "wordtag")


CONLLU = """# sent_id = 1
# text = Don't go.
1-2\tDon't\t_\t_\t_\t_\t_\t_\t_\t_
1\tDo\tdo\tAUX\tVBP\t_\t3\taux\t_\t_
2\tn't\tnot\tPART\tRB\t_\t3\tadvmod\t_\t_
3\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_
3.1\tgone\tgo\tVERB\tVBN\t_\t_\t_\t_\t_
4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_

# sent_id = 2
1\tYes\tyes\tINTJ\tUH\t_\t0\troot\t_\t_
"""


@pytest.mark.parametrize(("column", "first"), [("upos", "AUX"), ("xpos", "VBP")])
def test_conllu_skips_ranges_and_empty_nodes(tmp_path, column, first):
    data = read_tagged(write(tmp_path, "ud.conllu", CONLLU), conllu_tags=column)
    assert data.tokens == [["Do", "n't", "go", "."], ["Yes"]]
    assert data.tags[0][0] == first and len(data.tags[1]) == 1
    assert data.lines == [1, 10]


def test_conllu_sentence_with_no_tokens(tmp_path):
    path = write(tmp_path, "ud.conllu", "# sent_id = 1\n# text = \n\n" + CONLLU)
    with pytest.raises(DataError, match=r"ud\.conllu line 1: a sentence with no tokens"):
        read_tagged(path)


def test_conllu_wrong_column_count(tmp_path):
    path = write(tmp_path, "ud.conllu", "1 Do do AUX VBP _ 3 aux _ _\n")
    with pytest.raises(DataError, match=r"ud\.conllu line 1: expected the 10 tab-separated"):
        read_tagged(path)


def test_conllu_missing_tag(tmp_path):
    path = write(tmp_path, "ud.conllu", "1\tDo\tdo\tAUX\t_\t_\t0\troot\t_\t_\n")
    with pytest.raises(DataError, match=r"ud\.conllu line 1: no XPOS tag \('_'\) for token 'Do'"):
        read_tagged(path, conllu_tags="xpos")


def test_unknown_format(tmp_path):
    with pytest.raises(
        DataError, match=r"a\.txt: format must be one of conll, wordtag, conllu, got 'iob'"
    ):
        read_tagged(write(tmp_path, "a.txt", "a O\n"), "iob")


def test_unknown_conllu_tag_column(tmp_path):
    path = write(tmp_path, "ud.conllu", "1\tDo\tdo\tAUX\t_\t_\t0\troot\t_\t_\n")
    with pytest.raises(DataError, match=r"ud\.conllu: conllu_tags must be 'upos' or 'xpos'"):
        read_tagged(path, conllu_tags="deprel")
