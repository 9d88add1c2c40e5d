"""Recipient selections: parsing pasted and uploaded ids, expanding groups to people."""
import pytest

from dashboard.campaigns.recipients import (Directory, describe, expand, merge, normalize,
                                            parse_csv, parse_pasted, unknown_users)

DIRECTORY = Directory(
    users={"zhangsan": [1], "lisi": [2], "wangwu": [2], "zhaoliu": [3], "qianqi": [4]},
    children={0: [1], 1: [2, 3], 3: [4]},
    tags={7: (["zhangsan"], [3])},
)


def test_pasted_ids_mix_lines_commas_and_pipes_and_lose_duplicates():
    parsed = parse_pasted("lisi\nwangwu, zhaoliu | LiSi\n\n  zhangsan  ，wangwu")
    assert parsed.userids == ["lisi", "wangwu", "zhaoliu", "zhangsan"]
    assert parsed.errors == []


@pytest.mark.parametrize("bad", ["li si", "-dash", "名字", "x" * 65, "a/b"])
def test_malformed_ids_are_flagged_with_their_position(bad):
    parsed = parse_pasted(f"lisi\n{bad}")
    assert parsed.userids == ["lisi"]
    assert len(parsed.errors) == 1 and "item 2" in parsed.errors[0]


@pytest.mark.parametrize("good", ["a", "li.si", "li_si-2", "li@corp", "A1", "x" * 64])
def test_wecom_userid_shapes_pass(good):
    assert parse_pasted(good).userids == [good]


def test_csv_with_a_userid_column_and_row_level_errors():
    data = "\ufeffname,userid\n张三,zhangsan\n李四,li si\n,\n王五,wangwu\n赵六,bad!\n".encode()
    parsed = parse_csv(data)
    assert parsed.userids == ["zhangsan", "wangwu"]
    assert [e.split(":")[0] for e in parsed.errors] == ["Row 3", "Row 6"]


def test_csv_without_a_header_reads_the_first_column():
    assert parse_csv(b"lisi,x\nwangwu,y\nlisi,z\n").userids == ["lisi", "wangwu"]


@pytest.mark.parametrize("data, message", [(b"\xff\xfe\x00", "UTF-8"), (b"userid\n", "no user ids")])
def test_unreadable_or_empty_csv_explains(data, message):
    assert message in parse_csv(data).errors[0]


def test_departments_include_their_subdepartments_and_tags_their_departments():
    assert expand({"departments": [3]}, DIRECTORY) == ["zhaoliu", "qianqi"]
    assert sorted(expand({"tags": [7]}, DIRECTORY)) == ["qianqi", "zhangsan", "zhaoliu"]


def test_exclusions_win_and_duplicates_are_removed_case_insensitively():
    spec = {"users": ["LISI", "zhaoliu"], "departments": [2],
            "exclude": {"departments": [3], "users": ["wangwu"]}}
    assert expand(spec, DIRECTORY) == ["lisi"]  # the directory's spelling


def test_everyone_is_the_whole_directory_minus_exclusions():
    assert len(expand({"all": True}, DIRECTORY)) == 5
    assert "lisi" not in expand({"all": True, "exclude": {"users": ["lisi"]}}, DIRECTORY)


def test_unknown_users_and_merge_and_describe():
    spec = merge({"users": ["lisi", "ghost"]}, {"departments": [2], "exclude": {"tags": [7]}})
    assert unknown_users(spec, DIRECTORY) == ["ghost"]
    assert normalize(spec)["departments"] == [2]
    assert describe(spec) == "1 department and 2 people, except 1 tag"
    assert describe({"all": True}) == "Everyone (@all)"
