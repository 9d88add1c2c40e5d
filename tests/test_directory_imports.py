"""Reading the admin console's member export (XLSX or CSV) and matching it to the directory."""
import io
import re
import zipfile

import pytest
from openpyxl import Workbook

from dashboard.directory.imports import (MAX_PROBLEMS, MAX_ROWS, MAX_UNPACKED_BYTES, Export,
                                         ExportMember, ImportProblem, match, read_export)

TITLE = "说明：请勿修改表头。导出时间 2024-05-01"
HEADER = ["姓名", "账号", "别名", "职务", "部门", "性别", "手机", "座机", "个人邮箱", "地址", "激活状态"]


def xlsx(*rows, notice_sheet: bool = False) -> bytes:
    """A real workbook as the console writes it; None in rows is a blank row."""
    book = Workbook()
    sheet = book.active
    if notice_sheet:
        sheet.append(["填写须知"])
        sheet = book.create_sheet("成员")
    for row in rows:
        sheet.append(row or [])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_dimension(data: bytes, ref: str) -> bytes:
    """The workbook with its sheet's recorded used range replaced, as some writers get it wrong."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(),
                                 content)
            target.writestr(item, content)
    return out.getvalue()


def csv_text(*lines: str) -> str:
    return "\r\n".join(lines) + "\r\n"


def member_row(name, userid, departments):
    return [name, userid, "", "工程师", departments, "男", "13800000000", "", "", "", "已激活"]


def test_xlsx_with_a_title_row_chinese_text_two_departments_and_a_blank_row():
    data = xlsx([TITLE], HEADER,
                member_row("张三", "zhangsan", "腾讯科技/研发部/后台组"),
                None,
                member_row("李四", "LiSi", "腾讯科技/研发部/后台组;腾讯科技/销售部"))
    export = read_export("members.xlsx", data)
    assert export.problems == []
    assert export.members == [
        ExportMember("zhangsan", "张三", [["腾讯科技", "研发部", "后台组"]]),
        ExportMember("LiSi", "李四", [["腾讯科技", "研发部", "后台组"], ["腾讯科技", "销售部"]]),
    ]


def test_the_members_sheet_may_follow_a_notice_sheet_and_numbers_become_accounts():
    data = xlsx(["Name", "Account", "Department"], ["Zhang San", 10086, "Tencent/R&D"],
                notice_sheet=True)
    assert read_export("members.xlsx", data).members == [
        ExportMember("10086", "Zhang San", [["Tencent", "R&D"]])]


def test_a_wrongly_recorded_used_range_does_not_hide_rows():
    data = with_dimension(xlsx(HEADER, member_row("张三", "zhangsan", "公司/研发部")), "A1")
    assert [m.userid for m in read_export("members.xlsx", data).members] == ["zhangsan"]


def test_utf8_csv_with_a_bom_and_the_older_spelling_of_account():
    text = csv_text("通讯录导出,,", "姓名,帐号,部门", '王五,wangwu,"公司/市场部；公司/品牌部"')
    export = read_export("members.csv", ("\ufeff" + text).encode("utf-8"))
    assert export.members == [ExportMember("wangwu", "王五", [["公司", "市场部"], ["公司", "品牌部"]])]


def test_gb18030_csv_as_excel_in_china_saves_it():
    data = csv_text("姓名,UserID,部门", "赵六,zhaoliu, 公司 / 财务部 ").encode("gb18030")
    assert read_export("成员.csv", data).members == [
        ExportMember("zhaoliu", "赵六", [["公司", "财务部"]])]


def test_rows_without_account_without_name_or_repeated_are_reported_by_row():
    data = xlsx([TITLE], HEADER, member_row("张三", "", "公司/研发部"),
                member_row("", "lisi", "公司/研发部"), member_row("李四", "LISI", "公司"))
    export = read_export("members.xlsx", data)
    assert [m.userid for m in export.members] == ["lisi"]
    assert export.members[0].paths == [["公司", "研发部"]]  # nameless, still useful for departments
    assert [p.split(":")[0] for p in export.problems] == ["Row 3", "Row 4", "Row 5"]
    assert "no account" in export.problems[0] and "row 4" in export.problems[2]


def test_problems_are_capped_with_a_count_of_the_rest():
    lines = ["姓名,账号"] + [f"人{i}," for i in range(MAX_PROBLEMS + 5)]
    export = read_export("members.csv", csv_text(*lines, "张三,zhangsan").encode())
    assert len(export.problems) == MAX_PROBLEMS + 1
    assert export.problems[-1] == "…and 5 more problems."
    assert [m.userid for m in export.members] == ["zhangsan"]


@pytest.mark.parametrize("filename, data, words", [
    ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "neither a CSV nor an XLSX"),
    ("empty.csv", b"  \r\n", "neither a CSV nor an XLSX"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old Excel (.xls)"),
    ("broken.xlsx", b"PK\x03\x04 not really a zip", "could not be read"),
    ("no-header.csv", csv_text("编号,名字,邮箱", "zhangsan,张三,").encode(), "No header row"),
    ("header-only.csv", csv_text("姓名,账号,部门", ",,").encode(), "no members below"),
    ("latin1.csv", "姓名,账号\n".encode() + b"\x80\xff\xfe\x80,x\n", "neither UTF-8 nor GB18030"),
])
def test_unusable_files_say_what_to_do(filename, data, words):
    with pytest.raises(ImportProblem) as raised:
        read_export(filename, data)
    assert words in str(raised.value)


def test_a_zip_that_is_no_workbook_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "姓名,账号")
    with pytest.raises(ImportProblem, match="could not be read"):
        read_export("members.xlsx", out.getvalue())


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as entry:
            for _ in range(MAX_UNPACKED_BYTES // (1 << 24) + 1):
                entry.write(b" " * (1 << 24))
    with pytest.raises(ImportProblem, match="too large"):
        read_export("members.xlsx", out.getvalue())


@pytest.mark.slow
def test_more_rows_than_the_limit_are_refused():
    data = ("姓名,账号\r\n" + "张三,zhangsan\r\n" * MAX_ROWS).encode()
    with pytest.raises(ImportProblem, match="too large"):
        read_export("members.csv", data)


# --- matching --------------------------------------------------------------------------------

PARENTS = {1: 0, 3: 1, 5: 3, 6: 3, 9: 1}


def members(*rows) -> Export:
    """An export as read_export returns it: (userid, name, ["Co/Dept", ...]) per member."""
    return Export(members=[ExportMember(userid, name, [path.split("/") for path in paths])
                           for userid, name, paths in rows])


def test_names_match_case_insensitively_in_the_directory_spelling_and_strangers_are_listed():
    export = members(("ZhangSan", "张三", []), ("ghost", "幽灵", []), ("lisi", "", []))
    matched = match(export, {"zhangsan": [5], "lisi": [5]}, PARENTS)
    assert matched.user_names == {"zhangsan": "张三"}
    assert matched.unknown_userids == ["ghost"]
    assert matched.matched == 2


def test_a_path_names_the_department_and_those_above_it_until_the_path_or_tree_ends():
    export = members(("a", "甲", ["腾讯科技/研发部/后台组"]), ("b", "乙", ["集团/腾讯科技/销售部"]))
    matched = match(export, {"a": [5], "b": [9]}, PARENTS)
    assert matched.department_names == {5: "后台组", 3: "研发部", 1: "腾讯科技", 9: "销售部"}
    assert matched.contested == []  # "集团" has no department left to name


def test_members_in_several_departments_or_paths_name_no_department():
    export = members(("a", "甲", ["公司/研发部/后台组"]), ("b", "乙", ["公司/研发部", "公司/销售部"]))
    matched = match(export, {"a": [5, 9], "b": [3]}, PARENTS)
    assert matched.department_names == {}
    assert matched.user_names == {"a": "甲", "b": "乙"}


def test_where_members_disagree_the_majority_wins():
    export = members(("a", "甲", ["公司/研发中心/后台组"]), ("b", "乙", ["公司/研发部/后台组"]),
                     ("c", "丙", ["公司/研发部/前台组"]))
    matched = match(export, {"a": [5], "b": [5], "c": [6]}, PARENTS)
    assert matched.department_names[3] == "研发部"  # two against one
    assert matched.department_names[5] == "后台组" and matched.department_names[6] == "前台组"
    assert matched.contested == [3]


def test_a_tie_goes_to_the_name_met_first_in_the_file():
    export = members(("b", "乙", ["公司/研发部"]), ("a", "甲", ["公司/研发中心"]))
    matched = match(export, {"a": [3], "b": [3]}, PARENTS)
    assert matched.department_names == {3: "研发部", 1: "公司"}
    assert matched.contested == [3]
