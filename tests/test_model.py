"""`model.from_record`: OpenAlex records as the domain dataclasses."""

from kg.model import from_record

RECORD = {
    "id": "https://openalex.org/W1",
    "title": "A merged world",
    "primary_location": {"source": {"id": "https://openalex.org/S1", "display_name": "Old venue"}},
    "authorships": [{"author": {"id": "https://openalex.org/A1", "display_name": "Ada"},
                     "institutions": [{"id": "https://openalex.org/I1", "display_name": "Old lab"}]}],
    "referenced_works": ["https://openalex.org/W2", "https://openalex.org/W3"],
}


def test_merged_ids_of_every_entity_type_become_the_surviving_ids():
    aliases = {f"https://openalex.org/{old}": f"https://openalex.org/{new}"
               for old, new in [("W2", "W3"), ("A1", "A9"), ("I1", "I9"), ("S1", "S9"), ("W1", "W8")]}
    work = from_record(RECORD, aliases)
    assert work.references == ["https://openalex.org/W3"]
    assert work.authorships[0].author.id == "https://openalex.org/A9"
    assert work.authorships[0].institutions[0].id == "https://openalex.org/I9"
    assert work.source.id == "https://openalex.org/S9"
    assert work.id == "https://openalex.org/W1", "a record keeps its own id; merged works are dropped upstream"


def test_without_aliases_ids_are_kept():
    work = from_record(RECORD)
    assert work.authorships[0].author.id == "https://openalex.org/A1" and work.source.id == "https://openalex.org/S1"
    assert work.references == ["https://openalex.org/W2", "https://openalex.org/W3"]
