//! Rule database. (SKELETON)
