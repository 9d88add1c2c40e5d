"""Recipient selections: parsing pasted and uploaded ids, expanding groups to people."""
import pytest

from dashboard.campaigns.recipients import (Directory, describe, expand, from_values, merge,
                                            normalize, parse_csv, parse_pasted, shortlist,
                                            to_values, unknown_users)

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
    assert len(parsed.errors) == 1 and parsed.errors[0].startswith("Line 2: ")


@pytest.mark.parametrize("good", ["a", "li.si", "li_si-2", "li@corp", "A1", "x" * 64])
def test_wecom_userid_shapes_pass(good):
    assert parse_pasted(good).userids == [good]


def test_csv_with_a_userid_column_and_row_level_errors():
    data = "\ufeffname,userid\n张三,zhangsan\n李四,li si\n,\n王五,wangwu\n赵六,bad!\n".encode()
    parsed = parse_csv(data)
    assert parsed.userids == ["zhangsan", "wangwu"]
    assert [e.split(":")[0] for e in parsed.errors] == ["Line 3", "Line 6"]


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


# --- a forgiving import: good lines kept, bad ones listed by line, names looked up ------------

NAMES = {"zhangsan": "张三", "lisi": "李四", "wangwu": "王五", "zhangwei": "张伟", "zhangwei2": "张伟",
         "emma.wilson": "Emma Wilson"}


def test_pasted_lines_keep_the_good_and_name_the_bad_by_line():
    parsed = parse_pasted("lisi\n\nbad id!, wangwu\nzhaoliu | -x", NAMES)
    assert parsed.userids == ["lisi", "wangwu", "zhaoliu"]
    assert [e.split(":")[0] for e in parsed.errors] == ["Line 3", "Line 4"]


def test_names_become_userids_and_shared_or_unknown_names_are_listed():
    parsed = parse_pasted("张三\n张伟\n赵六\nEmma Wilson\nLISI", NAMES)
    assert parsed.userids == ["zhangsan", "emma.wilson", "LISI"]
    assert [(a.line, a.name, a.userids) for a in parsed.ambiguous] == [(2, "张伟", ["zhangwei", "zhangwei2"])]
    assert parsed.errors == ["Line 3: “赵六” is not a user id, nor the name of a member in the directory."]
    assert parsed.problems()[-1] == "Line 2: “张伟” is the name of 2 members; choose one."


def test_a_long_line_is_echoed_cut_to_80_characters():
    parsed = parse_pasted("lisi\n" + "坏" * 300)
    quoted = parsed.errors[0].split("“")[1].split("”")[0]
    assert len(quoted) == 80 and quoted.endswith("…") and parsed.userids == ["lisi"]


def test_at_most_20_problems_are_listed_then_how_many_more():
    parsed = parse_pasted("\n".join(f"bad id {i}" for i in range(25)))
    shown = shortlist(parsed.errors)
    assert len(shown) == 21 and shown[19].startswith("Line 20: ") and shown[-1] == "… and 5 more."


def test_an_unclosed_quote_in_a_csv_is_reported_at_its_line_and_spares_the_rows_after_it():
    data = 'name,userid\n张三,zhangsan\n"李四,lisi\n王五,wangwu\n赵六,zhaoliu\n'.encode()
    parsed = parse_csv(data, NAMES)
    assert parsed.userids == ["zhangsan", "wangwu", "zhaoliu"]
    assert len(parsed.errors) == 1 and parsed.errors[0].startswith("Line 3: ")
    assert "quote" in parsed.errors[0]


def test_a_csv_of_names_is_looked_up():
    parsed = parse_csv("姓名\n张三\n张伟\n无名\n".encode(), NAMES)
    assert parsed.userids == ["zhangsan"] and parsed.ambiguous[0].line == 3
    assert parsed.errors[0].startswith("Line 4: “无名”")


def test_picker_values_map_to_a_selection_and_back():
    part = from_values(["user:lisi", "department:2", "tag:1", "user:wangwu"])
    assert part == {"users": ["lisi", "wangwu"], "departments": [2], "tags": [1]}
    assert from_values(to_values(part)) == part
    for bad in (["lisi"], ["department:x"], ["user:bad id"], ["group:1"]):
        with pytest.raises(ValueError):
            from_values(bad)
