use super::*;
use serde_json::json;

/// A file of one record per line (`KEY`); a line `bad` is a bad record, a line `BROKEN` makes
/// the whole file unreadable (found when it is opened, as a parser should), and so does a
/// file that is not UTF-8.
struct Lines;

impl FileParser for Lines {
    fn open(&self, file: &DroppedFile) -> Result<Box<dyn FileReader>, FileError> {
        let bytes = std::fs::read(&file.path).map_err(|error| fatal(error.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| Unreadable::new(None, "the file is not UTF-8"))?;
        let mut records = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let number = index as u64 + 1;
            match line {
                "" => {}
                "BROKEN" => {
                    return Err(Unreadable::new(Some(number), "`BROKEN` is not a record")
                        .with_fix("remove the line")
                        .into())
                }
                "bad" => records.push(Err(RecordFailure::new(
                    format!("line {number}"),
                    format!("{}:{number}", file.name),
                    "is bad",
                    json!(line),
                ))),
                key => records.push(Ok(SourceRecord {
                    key: key.to_owned(),
                    updated_at: None,
                    data: json!({ "sku": key }),
                })),
            }
        }
        Ok(Box::new(ParsedFile::new(records)))
    }
}

/// Writes a file into the folder, last modified `minutes_ago`.
fn drop_file(folder: &Path, name: &str, content: &str, minutes_ago: u64) -> PathBuf {
    let path = folder.join(name);
    std::fs::write(&path, content).unwrap();
    set_age(&path, minutes_ago);
    path
}

/// Sets a file's modification time to `minutes_ago` before a fixed moment (in 2017, long
/// past any quiet time), so files given the same age have the very same time.
fn set_age(path: &Path, minutes_ago: u64) {
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000 - 60 * minutes_ago);
    set_modified(path, when);
}

fn set_modified(path: &Path, when: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(when)
        .unwrap();
}

fn source(folder: &Path) -> FileDropSource<Lines> {
    FileDropSource::open(folder, Lines).unwrap()
}

fn request(position: Option<String>, page_size: usize) -> ReadRequest {
    ReadRequest {
        position,
        changed_since: None,
        page_size,
    }
}

/// Reads every page as the engine does: each page is settled before the next is read.
async fn run(source: &mut dyn Source, page_size: usize) -> Vec<Page> {
    let mut pages = Vec::new();
    let mut position = None;
    loop {
        assert!(pages.len() < 100, "the read never ends");
        let page = source.read_page(&request(position, page_size)).await.unwrap();
        source.settled(page.next.as_deref()).await.unwrap();
        position = page.next.clone();
        pages.push(page);
        if position.is_none() {
            return pages;
        }
    }
}

fn keys(pages: &[Page]) -> Vec<String> {
    pages
        .iter()
        .flat_map(|page| &page.records)
        .filter_map(|record| record.as_ref().ok())
        .map(|record| record.key.clone())
        .collect()
}

fn failures(pages: &[Page]) -> Vec<RecordFailure> {
    pages
        .iter()
        .flat_map(|page| &page.records)
        .filter_map(|record| record.as_ref().err())
        .cloned()
        .collect()
}

/// The names in a folder, sorted; an absent folder is empty.
fn names(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(folder) {
        Ok(entries) => entries
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

#[tokio::test]
async fn files_are_read_oldest_first_then_by_name_one_file_per_page() {
    let folder = tempfile::tempdir().unwrap();
    drop_file(folder.path(), "c.txt", "C1\n", 5);
    drop_file(folder.path(), "b.txt", "B1\nB2\n", 10);
    drop_file(folder.path(), "a.txt", "A1\n", 5);
    let pages = run(&mut source(folder.path()), 10).await;
    let per_page: Vec<Vec<String>> = pages.iter().map(|page| keys(std::slice::from_ref(page))).collect();
    assert_eq!(per_page, [vec!["B1", "B2"], vec!["A1"], vec!["C1"]]);
    assert_eq!(names(folder.path()), [DONE]);
    assert_eq!(names(&folder.path().join(DONE)).len(), 3);
}

#[tokio::test]
async fn a_file_moves_to_done_named_by_time_and_content_hash_only_once_its_last_page_is_settled() {
    let folder = tempfile::tempdir().unwrap();
    let path = drop_file(folder.path(), "prices.txt", "P1\nP2\nP3\n", 5);
    let sha256 = sha256_of(&path).unwrap();
    let mut source = source(folder.path());
    let first = source.read_page(&request(None, 2)).await.unwrap();
    let last = source.read_page(&request(first.next.clone(), 2)).await.unwrap();
    assert_eq!(keys(&[first, last.clone()]), ["P1", "P2", "P3"]);
    assert_eq!(last.next, None);
    assert!(path.exists(), "moved before the engine settled the file's last page");

    source.settled(None).await.unwrap();
    assert!(!path.exists());
    let done = names(&folder.path().join(DONE));
    assert_eq!(done.len(), 1, "{done:?}");
    let suffix = format!("_{}_prices.txt", &sha256[..16]);
    let stamp = done[0]
        .strip_suffix(&suffix)
        .unwrap_or_else(|| panic!("{} lacks {suffix}", done[0]));
    assert!(
        chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H-%M-%S").is_ok(),
        "{stamp}"
    );
}

#[tokio::test]
async fn content_already_in_done_is_a_redelivery_moved_as_a_duplicate_under_any_name() {
    let folder = tempfile::tempdir().unwrap();
    drop_file(folder.path(), "statement-0930.txt", "T1\nT2\n", 10);
    assert_eq!(keys(&run(&mut source(folder.path()), 10).await), ["T1", "T2"]);

    drop_file(folder.path(), "statement-copy.txt", "T1\nT2\n", 5);
    drop_file(folder.path(), "statement-1001.txt", "T3\n", 4);
    let pages = run(&mut source(folder.path()), 10).await;
    assert_eq!(keys(&pages), ["T3"], "the re-delivered file was imported again");
    assert!(failures(&pages).is_empty());
    assert_eq!(names(folder.path()), [DONE]);
    let done = names(&folder.path().join(DONE));
    assert_eq!(done.len(), 3, "{done:?}");
    assert_eq!(
        done.iter()
            .filter(|name| name.ends_with("_duplicate_statement-copy.txt"))
            .count(),
        1,
        "{done:?}"
    );
}

#[tokio::test]
async fn two_copies_dropped_together_are_imported_once() {
    let folder = tempfile::tempdir().unwrap();
    drop_file(folder.path(), "a.txt", "X1\nX2\n", 10);
    drop_file(folder.path(), "a (1).txt", "X1\nX2\n", 5);
    let pages = run(&mut source(folder.path()), 1).await;
    assert_eq!(keys(&pages), ["X1", "X2"]);
    let done = names(&folder.path().join(DONE));
    assert_eq!(done.len(), 2, "{done:?}");
    assert!(
        done.iter().any(|name| name.ends_with("_duplicate_a (1).txt")),
        "{done:?}"
    );
    assert!(done.iter().any(|name| name.ends_with("_a.txt")), "{done:?}");
}

#[tokio::test]
async fn an_unreadable_file_goes_to_failed_as_one_dead_letter_naming_file_line_and_fix() {
    let folder = tempfile::tempdir().unwrap();
    drop_file(folder.path(), "a.txt", "A1\n", 10);
    drop_file(folder.path(), "statement.xml", "S1\nS2\nBROKEN\nS4\n", 8);
    drop_file(folder.path(), "latin1.txt", "", 6);
    std::fs::write(folder.path().join("latin1.txt"), b"L1\nK\xEBdas\n").unwrap();
    set_age(&folder.path().join("latin1.txt"), 6);
    drop_file(folder.path(), "c.txt", "C1\n", 4);
    let pages = run(&mut source(folder.path()), 10).await;

    assert_eq!(
        keys(&pages),
        ["A1", "C1"],
        "records of an unreadable file were returned"
    );
    let failures = failures(&pages);
    assert_eq!(failures.len(), 2, "{failures:#?}");
    let broken = &failures[0];
    assert_eq!(broken.location, "statement.xml:3");
    assert_eq!(broken.key, "statement.xml");
    assert!(
        broken
            .message
            .starts_with("statement.xml was not imported: `BROKEN` is not a record. It is moved to failed/"),
        "{}",
        broken.message
    );
    assert!(
        broken
            .message
            .ends_with("_statement.xml: remove the line, then put the file back in the folder"),
        "{}",
        broken.message
    );
    assert_eq!(
        broken.fix.as_deref(),
        Some("remove the line, then put the file back in the folder")
    );
    assert_eq!(broken.raw["line"], 3);
    assert_eq!(failures[1].location, "latin1.txt");
    assert_eq!(
        failures[1].fix.as_deref(),
        Some("fix the file and put it back in the folder")
    );

    let failed = names(&folder.path().join(FAILED));
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed.iter().any(|name| name.ends_with("_statement.xml")), "{failed:?}");
    assert_eq!(
        broken.raw["moved_to"],
        json!(format!(
            "failed/{}",
            failed.iter().find(|name| name.ends_with("_statement.xml")).unwrap()
        ))
    );
    assert_eq!(names(&folder.path().join(DONE)).len(), 2);
    assert_eq!(names(folder.path()), [DONE, FAILED]);
}

#[tokio::test]
async fn a_bad_record_fails_alone_and_its_file_still_goes_to_done() {
    let folder = tempfile::tempdir().unwrap();
    drop_file(folder.path(), "prices.txt", "P1\nbad\nP3\n", 5);
    let pages = run(&mut source(folder.path()), 10).await;
    assert_eq!(keys(&pages), ["P1", "P3"]);
    let failures = failures(&pages);
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].location, "prices.txt:2");
    assert_eq!(names(&folder.path().join(DONE)).len(), 1);
    assert!(names(&folder.path().join(FAILED)).is_empty());
}

#[tokio::test]
async fn a_read_that_died_mid_file_resumes_at_its_position_without_repeating_records() {
    let folder = tempfile::tempdir().unwrap();
    drop_file(folder.path(), "prices.txt", "P1\nP2\nP3\nP4\nP5\n", 5);
    let mut dying = source(folder.path());
    let first = dying.read_page(&request(None, 2)).await.unwrap();
    dying.settled(first.next.as_deref()).await.unwrap();
    drop(dying);
    assert_eq!(keys(std::slice::from_ref(&first)), ["P1", "P2"]);
    let saved = first.next.clone().expect("more pages");
    // Renamed meanwhile: the position names the content, not the name.
    std::fs::rename(folder.path().join("prices.txt"), folder.path().join("renamed.txt")).unwrap();
    set_age(&folder.path().join("renamed.txt"), 5);

    let mut resumed = source(folder.path());
    let mut pages = Vec::new();
    let mut position = Some(saved);
    while let Some(at) = position {
        let page = resumed.read_page(&request(Some(at), 2)).await.unwrap();
        resumed.settled(page.next.as_deref()).await.unwrap();
        position = page.next.clone();
        pages.push(page);
    }
    assert_eq!(keys(&pages), ["P3", "P4", "P5"]);
    assert_eq!(names(folder.path()), [DONE]);
}

#[tokio::test]
async fn a_file_read_to_its_end_but_never_moved_is_moved_not_imported_when_the_read_resumes_after_it() {
    let folder = tempfile::tempdir().unwrap();
    drop_file(folder.path(), "a.txt", "A1\n", 10);
    drop_file(folder.path(), "b.txt", "B1\n", 5);
    let mut dying = source(folder.path());
    let first = dying.read_page(&request(None, 10)).await.unwrap();
    // The page was settled by the engine, but the run stopped before the move.
    drop(dying);
    let saved = first.next.clone().expect("b.txt waits");
    assert!(saved.starts_with("after:"), "{saved}");

    let mut resumed = source(folder.path());
    let page = resumed.read_page(&request(Some(saved), 10)).await.unwrap();
    assert_eq!(keys(std::slice::from_ref(&page)), ["B1"]);
    resumed.settled(page.next.as_deref()).await.unwrap();
    assert_eq!(names(folder.path()), [DONE]);
    assert_eq!(names(&folder.path().join(DONE)).len(), 2);
}

#[tokio::test]
async fn an_unreadable_file_whose_dead_letter_was_settled_but_never_moved_is_not_reported_twice() {
    let folder = tempfile::tempdir().unwrap();
    drop_file(folder.path(), "broken.txt", "BROKEN\n", 10);
    drop_file(folder.path(), "b.txt", "B1\n", 5);
    let mut dying = source(folder.path());
    let first = dying.read_page(&request(None, 10)).await.unwrap();
    assert_eq!(failures(std::slice::from_ref(&first)).len(), 1);
    drop(dying);
    let saved = first.next.clone().expect("b.txt waits");
    assert!(saved.starts_with("failed:"), "{saved}");

    let mut resumed = source(folder.path());
    let page = resumed.read_page(&request(Some(saved), 10)).await.unwrap();
    assert_eq!(keys(std::slice::from_ref(&page)), ["B1"]);
    assert!(failures(std::slice::from_ref(&page)).is_empty());
    resumed.settled(page.next.as_deref()).await.unwrap();
    assert_eq!(names(folder.path()), [DONE, FAILED]);
    assert_eq!(names(&folder.path().join(FAILED)).len(), 1);
}

#[tokio::test]
async fn nothing_moves_without_settling_and_a_new_read_starts_over() {
    let folder = tempfile::tempdir().unwrap();
    drop_file(folder.path(), "a.txt", "A1\n", 10);
    drop_file(folder.path(), "b.txt", "B1\n", 5);
    let mut dry = source(folder.path());
    let mut position = None;
    let mut pages = Vec::new();
    loop {
        let page = dry.read_page(&request(position, 10)).await.unwrap();
        position = page.next.clone();
        pages.push(page);
        if position.is_none() {
            break;
        }
    }
    assert_eq!(keys(&pages), ["A1", "B1"]);
    assert_eq!(names(folder.path()), ["a.txt", "b.txt"]);
    assert_eq!(keys(&run(&mut source(folder.path()), 10).await), ["A1", "B1"]);
    assert_eq!(names(folder.path()), [DONE]);
}

#[tokio::test]
async fn files_still_being_written_dotfiles_and_subfolders_are_left_alone() {
    let folder = tempfile::tempdir().unwrap();
    let fresh = folder.path().join("fresh.txt");
    std::fs::write(&fresh, "F1\n").unwrap();
    set_modified(&fresh, SystemTime::now());
    for name in [
        ".hidden",
        "upload.part",
        "x.tmp",
        "notes.txt~",
        "~$book.xlsx",
        "y.crdownload",
    ] {
        drop_file(folder.path(), name, "NO\n", 10);
    }
    std::fs::create_dir(folder.path().join("archive")).unwrap();
    drop_file(&folder.path().join("archive"), "old.txt", "NO\n", 10);
    std::fs::create_dir(folder.path().join(FAILED)).unwrap();
    drop_file(&folder.path().join(FAILED), "broken.txt", "NO\n", 10);
    let before = names(folder.path());

    // An hour's quiet time: `fresh.txt` is being written however slow the machine is.
    let mut patient = source(folder.path()).quiet_for(Duration::from_secs(3600));
    let pages = run(&mut patient, 10).await;
    assert!(keys(&pages).is_empty(), "{:?}", keys(&pages));
    assert_eq!(pages.len(), 1);
    assert_eq!(names(folder.path()), before);

    // Left alone long enough, the file is finished.
    set_age(&fresh, 1);
    assert_eq!(keys(&run(&mut source(folder.path()), 10).await), ["F1"]);
    // A shorter quiet time reads a file at once.
    let quick = folder.path().join("quick.txt");
    std::fs::write(&quick, "Q1\n").unwrap();
    let mut impatient = FileDropSource::open(folder.path(), Lines)
        .unwrap()
        .quiet_for(Duration::ZERO);
    assert_eq!(keys(&run(&mut impatient, 10).await), ["Q1"]);
}

#[tokio::test]
async fn a_folder_files_cannot_be_moved_in_is_a_fatal_error_naming_it_and_the_fix() {
    let folder = tempfile::tempdir().unwrap();
    let path = drop_file(folder.path(), "a.txt", "BROKEN\n", 5);
    // A file where the failed/ folder should be: it cannot be created (even by root, who
    // ignores permissions).
    std::fs::write(folder.path().join(FAILED), "").unwrap();
    let mut source = source(folder.path());
    let page = source.read_page(&request(None, 10)).await.unwrap();
    assert_eq!(failures(std::slice::from_ref(&page)).len(), 1);
    let error = source.settled(None).await.expect_err("moved into a file");
    assert_eq!(error.kind, ErrorKind::Fatal);
    assert!(
        error
            .message
            .contains(&folder.path().join(FAILED).display().to_string()),
        "{}",
        error.message
    );
    assert!(
        error.message.contains(&format!(
            "let the user running Tiltas write to {}",
            folder.path().display()
        )),
        "{}",
        error.message
    );
    assert!(path.exists(), "the file left its folder");
}

#[tokio::test]
async fn a_missing_folder_is_a_fatal_error_naming_it() {
    let folder = tempfile::tempdir().unwrap();
    let missing = folder.path().join("inbox");
    let Err(error) = FileDropSource::open(&missing, Lines) else {
        panic!("a missing folder was opened")
    };
    assert_eq!(error.kind, ErrorKind::Fatal);
    assert!(
        error.message.contains(&missing.display().to_string()),
        "{}",
        error.message
    );
    assert!(error.message.contains("create it"), "{}", error.message);
}

#[tokio::test]
async fn a_position_from_elsewhere_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let error = source(folder.path())
        .read_page(&request(Some("17:3:2".to_owned()), 10))
        .await
        .expect_err("a foreign position was accepted");
    assert_eq!(error.kind, ErrorKind::Fatal);
    assert!(error.message.contains("unknown read position"), "{}", error.message);
}

#[test]
fn the_content_hash_is_sha256() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("abc");
    std::fs::write(&path, "abc").unwrap();
    assert_eq!(
        sha256_of(&path).unwrap(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn an_unreadable_file_read_on_its_own_names_path_line_problem_and_fix() {
    let error = FileError::from(Unreadable::new(Some(5), "the file is not UTF-8").with_fix("save it as UTF-8"))
        .for_path(Path::new("in/prices.csv"));
    assert_eq!(error.kind, ErrorKind::Fatal);
    assert_eq!(
        error.message,
        "in/prices.csv:5: the file is not UTF-8: save it as UTF-8"
    );
    assert_eq!(error.location.as_deref(), Some("in/prices.csv:5"));
    assert_eq!(error.fix.as_deref(), Some("save it as UTF-8"));
}

#[test]
fn a_parsed_file_is_read_in_pages_to_its_end() {
    let record = |key: &str| {
        Ok(SourceRecord {
            key: key.to_owned(),
            updated_at: None,
            data: json!({}),
        })
    };
    let mut file = ParsedFile::new(vec![record("1"), record("2"), record("3")]);
    let first = file.read_page(None, 2).unwrap();
    assert_eq!((first.records.len(), first.next.as_deref()), (2, Some("2")));
    let last = file.read_page(first.next.as_deref(), 2).unwrap();
    assert_eq!((last.records.len(), last.next), (1, None));
}
